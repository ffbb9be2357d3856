"""``herald tail``: follow events live in the terminal (the renderer lives in herald.delivery)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
from typing import Annotated, Any

import orjson
import typer

from herald.cli.common import DEFAULT, JsonOpt, TokenOpt, UrlOpt, err, fail, out
from herald.errors import HeraldError


def tail(
    stream_ids: Annotated[
        list[str] | None, typer.Argument(help="Only these streams (default: all).")
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="Only this event type, e.g. stream:tweet:new (repeat)."),
    ] = None,
    platforms: Annotated[
        list[str] | None,
        typer.Option("--platform", "-p", help="Only events of this platform, e.g. x (repeat)."),
    ] = None,
    filters: Annotated[
        str | None,
        typer.Option(
            "--filters",
            help='Content filters as JSON, as for subscriptions, e.g. \'{"keywords":["launch"]}\'.',
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Replay from after this offset, then follow.")
    ] = None,
    sentiment: Annotated[
        str | None,
        typer.Option(
            "--sentiment",
            help="Only items of this sentiment: labels (negative,neutral) or a compound "
            'range as JSON (\'{"min":-1,"max":-0.3}\').',
        ),
    ] = None,
    channels: Annotated[
        list[str] | None,
        typer.Option("--channel", help="Only alert events routed to this channel (repeat)."),
    ] = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print events as they happen (one JSON object per line with --json). Ctrl-C stops."""
    query = subscription_payload(
        stream_ids, types, platforms, filters, since, sentiment=sentiment, channels=channels
    )
    try:  # imported by name: the terminal renderer is optional and loads only when used
        follow = importlib.import_module("herald.delivery.terminal").tail
    except (ImportError, AttributeError):
        fail("herald tail is not available in this build (herald.delivery.terminal is missing)")
    try:
        result = follow(
            url,
            token=token,
            stream_ids=list(stream_ids or []),
            types=list(types or []),
            since=since,
            query=query,
            console=out,
            json_output=json_out,
            notices=err,
        )
        if inspect.isawaitable(result):
            asyncio.run(_wait(result))
    except KeyboardInterrupt:
        pass


def subscription_payload(
    stream_ids: list[str] | None,
    types: list[str] | None,
    platforms: list[str] | None,
    filters: str | None,
    since: str | None = None,
    *,
    sentiment: str | None = None,
    channels: list[str] | None = None,
) -> dict[str, Any]:
    """The ``/ws`` subscription payload, checked here by the server's own query model, so a
    bad query fails at once with the text every transport gives."""
    from herald.delivery.filters import sentiment_param
    from herald.delivery.subscription import parse_query

    raw: dict[str, Any] = {}
    for name, values in (
        ("streamIds", stream_ids),
        ("types", types),
        ("platforms", platforms),
        ("channels", channels),
    ):
        if values:
            raw[name] = list(values)
    if filters:
        try:
            raw["filters"] = orjson.loads(filters)
        except orjson.JSONDecodeError:
            fail("filters: must be a JSON object")
    try:
        if sentiment:
            raw["sentiment"] = sentiment_param(sentiment)
        parse_query({**raw, "since": since} if since else raw)
    except HeraldError as exc:
        fail(exc.detail)
    return raw


async def _wait(awaitable: object) -> None:
    assert inspect.isawaitable(awaitable)
    await awaitable


def register(app: typer.Typer) -> None:
    app.command()(tail)
