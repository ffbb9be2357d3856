"""``herald tail``: print events live in a terminal, resuming after a dropped connection.

It speaks the ``/ws`` protocol. Every event's offset is remembered, and a reconnect asks
for ``since`` = the last one, so a dropped connection or a restarted server loses nothing
the log still holds; when the gap is older than the log's retention it says so.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import orjson
import websockets
from rich.console import Console
from rich.markup import escape

from herald.errors import AuthError, ValidationError
from herald.sources.catalog import item_of

REQUESTED = "events:stream:v1:requested"
_STYLE = {"new": "green", "lost": "red", "error": "bold red", "count": "cyan"}


def ws_url(base_url: str, token: str | None) -> str:
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    query = f"token={quote(token)}" if token else ""
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws", query, ""))


def _first(item: dict[str, Any], names: tuple[str, ...]) -> str:
    return next((v for k in names if isinstance(v := item.get(k), str) and v), "")


def describe_item(item: dict[str, Any]) -> str:
    """Any platform's item in one line: who (author, username) and what (a post's text, an
    entry's title; its link when it has neither)."""
    who = _first(item, ("author", "username", "sender"))
    head = f"@{who}" if who and " " not in who else who  # a feed's "Jane Doe" is no handle
    text = " ".join(_first(item, ("text", "title", "summary")).split())
    if not text and not head:
        text = _first(item, ("link", "url", "id"))
    return f"{head}: {text}" if head and text else head or text


def summary(event: dict[str, Any]) -> str:
    """One human line for an event: the item (under any payload key the catalog knows),
    the follower lost, or the counts."""
    if found := item_of(event):
        return describe_item(found[1])
    unfollower = event.get("unfollower")
    if isinstance(unfollower, dict):
        return f"@{unfollower.get('username', '?')}"
    if "followersCount" in event:
        return f"{event['followersCount']} followers ({event.get('delta', 0):+})"
    if "error" in event:
        return str(event["error"])
    return ""


def render(console: Console, event: dict[str, Any]) -> None:
    etype = str(event.get("type", "?"))
    style = _STYLE.get(etype.rsplit(":", 1)[-1], "white")
    when = str(event.get("detectedAt", ""))[11:19]
    console.print(
        f"[dim]{when}[/] [{style}]{escape(etype)}[/] "
        f"[bold]{escape(str(event.get('streamId', '')))}[/] {escape(summary(event))}",
        highlight=False,
        soft_wrap=True,
    )


async def tail(
    base_url: str,
    *,
    token: str | None,
    stream_ids: list[str],
    types: list[str],
    since: str | None,
    console: Console,
    query: dict[str, Any] | None = None,
    json_output: bool = False,
    notices: Console | None = None,
) -> None:
    """Print events until cancelled; reconnect with backoff, resuming from the last offset.

    Connection notices go to ``notices`` (stderr for the CLI), so that ``--json`` output
    stays one JSON object per line. ``query`` is the rest of the subscription payload
    (``platforms``, ``filters``...).
    """
    notices = notices or console
    url = ws_url(base_url, token)
    last = since
    backoff = 0.5
    while True:
        try:
            async with websockets.connect(url, max_size=None) as ws:
                payload: dict[str, Any] = dict(query or {})
                if stream_ids:
                    payload["streamIds"] = stream_ids
                if types:
                    payload["types"] = types
                if last:
                    payload["since"] = last
                await ws.send(orjson.dumps({"type": REQUESTED, "id": "tail", "payload": payload}))
                async for raw in ws:
                    msg = orjson.loads(raw)
                    last = _handle(console, notices, msg, json_output) or last
                    backoff = 0.5
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            reason = exc.rcvd.reason if exc.rcvd is not None else ""
            if code == 4401:
                raise AuthError(reason or "refused") from exc
            notices.print(f"[yellow]connection closed ({code} {escape(reason)}); resuming[/]")
        except (OSError, websockets.InvalidHandshake, TimeoutError) as exc:
            notices.print(f"[yellow]cannot reach {escape(base_url)}: {escape(str(exc))}[/]")
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 10.0)


def _handle(
    console: Console, notices: Console, msg: dict[str, Any], json_output: bool
) -> str | None:
    """Show one server message; the offset of the event it carried, if any."""
    kind = msg.get("type")
    payload = msg.get("payload") or {}
    if kind == "events:stream:v1:stream":
        if json_output:
            console.out(orjson.dumps(payload).decode(), highlight=False)
        else:
            render(console, payload)
        offset = payload.get("offset")
        if payload.get("overtook") is True:  # sent ahead of older ones: not a resume point
            return None
        return offset if isinstance(offset, str) else None
    if kind == "events:stream:v1:started" and not payload.get("recovered", True):
        notices.print(
            "[bold yellow]some events are older than the log keeps; "
            f"resuming from {escape(str(payload.get('offset')))}[/]"
        )
    elif kind == "events:stream:v1:started":  # scripts wait for this line before acting
        notices.print(f"[dim]subscribed at offset {escape(str(payload.get('offset')))}[/]")
    elif kind == "events:stream:v1:error":
        detail = str(payload.get("detail") or payload.get("error"))
        if payload.get("error") == "slow_consumer":  # the server closes next; resume then
            notices.print(f"[yellow]the server cut this connection: {escape(detail)}[/]")
            return None
        if payload.get("error") == "unauthorized":
            raise AuthError(detail)
        raise ValidationError(detail)
    return None
