"""``herald tail``: follow events live in the terminal (the renderer lives in herald.delivery)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
from typing import Annotated

import typer

from herald.cli.common import DEFAULT, JsonOpt, TokenOpt, UrlOpt, err, fail, out


def tail(
    stream_ids: Annotated[
        list[str] | None, typer.Argument(help="Only these streams (default: all).")
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="Only this event type, e.g. stream:tweet:new (repeat)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Replay from after this offset, then follow.")
    ] = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print events as they happen (one JSON object per line with --json). Ctrl-C stops."""
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
            console=out,
            json_output=json_out,
            notices=err,
        )
        if inspect.isawaitable(result):
            asyncio.run(_wait(result))
    except KeyboardInterrupt:
        pass


async def _wait(awaitable: object) -> None:
    assert inspect.isawaitable(awaitable)
    await awaitable


def register(app: typer.Typer) -> None:
    app.command()(tail)
