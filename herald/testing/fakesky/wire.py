"""``/subscribe``: Jetstream's v1 wire. Query ``wantedCollections`` and ``wantedDids``
(repeated), ``cursor`` (``time_us``, inclusive replay), ``requireHello``; the subscriber may
send ``{"type": "options_update", "payload": {...}}`` to change its filter in place."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any

import orjson
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from herald.testing.fakesky.service import FakeSky, Filter, Subscriber, fakesky_of

MAX_COLLECTIONS = 100
MAX_DIDS = 10_000
_NSID = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]*(\.[a-zA-Z0-9-]+){2,}$")
_DID = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]+$")


class BadOptions(ValueError):
    pass


def parse_filter(collections: list[str], dids: list[str]) -> Filter:
    """Jetstream's checks: NSIDs or ``prefix.*``, at most 100; DIDs, at most 10,000."""
    full: set[str] = set()
    prefixes: list[str] = []
    for raw in collections:
        if raw.endswith(".*"):
            prefixes.append(raw[:-1])
        elif _NSID.match(raw):
            full.add(raw)
        else:
            raise BadOptions(f"invalid collection: {raw}")
    if len(full) + len(prefixes) > MAX_COLLECTIONS:
        raise BadOptions(f"too many wanted collections: > {MAX_COLLECTIONS}")
    wanted = set()
    for raw in dids:
        if not _DID.match(raw):
            raise BadOptions(f"invalid DID: {raw}")
        wanted.add(raw)
    if len(wanted) > MAX_DIDS:
        raise BadOptions(f"too many wanted DIDs: {len(wanted)} > {MAX_DIDS}")
    return Filter(
        frozenset(full) if full or prefixes else None,
        tuple(prefixes),
        frozenset(wanted) if wanted else None,
    )


def _update_filter(message: Any) -> Filter:
    if not isinstance(message, dict) or message.get("type") != "options_update":
        raise BadOptions("unknown subscriber message")
    payload = message.get("payload")
    if not isinstance(payload, dict):
        raise BadOptions("options_update needs a payload object")
    cols = payload.get("wantedCollections") or []
    dids = payload.get("wantedDids") or []
    if not (isinstance(cols, list) and all(isinstance(c, str) for c in cols)):
        raise BadOptions("wantedCollections must be a list of strings")
    if not (isinstance(dids, list) and all(isinstance(d, str) for d in dids)):
        raise BadOptions("wantedDids must be a list of strings")
    return parse_filter(cols, dids)


async def _deny(ws: WebSocket, response: Response) -> None:
    """An HTTP answer instead of the upgrade, when the server can send one."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(response)
    else:
        await ws.close(code=1008)


async def subscribe(ws: WebSocket) -> None:
    fake = fakesky_of(ws)
    fake.requests["subscribe"] += 1
    status = fake.take_refusal(None)
    if status is not None:
        await _deny(ws, JSONResponse({"error": "Unavailable"}, status_code=status))
        return
    params = ws.query_params
    try:
        flt = parse_filter(params.getlist("wantedCollections"), params.getlist("wantedDids"))
        raw_cursor = params.get("cursor")
        cursor = int(raw_cursor) if raw_cursor else None
        if cursor is not None and cursor < 0:
            raise BadOptions("invalid cursor")
        if params.get("compress") == "true":
            raise BadOptions("fakesky sends uncompressed JSON only (compress=true refused)")
    except ValueError as exc:
        detail = str(exc) if isinstance(exc, BadOptions) else "invalid cursor"
        await _deny(ws, JSONResponse({"error": "BadRequest", "message": detail}, 400))
        return
    await ws.accept()
    sub = fake.add_subscriber(flt, cursor)
    hello = asyncio.Event()
    if params.get("requireHello") != "true":
        hello.set()
    sender = asyncio.create_task(_send(ws, fake, sub, hello))
    receiver = asyncio.create_task(_receive(ws, fake, sub, hello))
    dropped = asyncio.create_task(sub.dropped.wait())
    try:
        await asyncio.wait({sender, receiver, dropped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        fake.remove_subscriber(sub)
        for task in (sender, receiver, dropped):
            task.cancel()
        await asyncio.gather(sender, receiver, dropped, return_exceptions=True)
        with contextlib.suppress(Exception):  # the peer may be gone already
            await ws.close(code=1011 if sub.dropped.is_set() else 1000)


async def _send(ws: WebSocket, fake: FakeSky, sub: Subscriber, hello: asyncio.Event) -> None:
    await hello.wait()
    seq = fake.window.start_for(sub.cursor)
    while True:
        pause = sub.stall_until - time.time()
        if pause > 0:  # a stall fault: the connection stays open and silent
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sub.dropped.wait(), pause)
            continue
        while sub.garbage:
            await ws.send_text(sub.garbage.pop(0))
        entries, seq = fake.window.read(seq)
        for entry in entries:
            if sub.filter.wants(entry):
                await ws.send_text(entry.text)
                sub.sent += 1
                fake.requests["framesSent"] += 1
        if not entries:
            sub.wake.clear()
            waiter = asyncio.create_task(fake.window.wait(seq))
            woken = asyncio.create_task(sub.wake.wait())
            await asyncio.wait({waiter, woken}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            woken.cancel()


async def _receive(ws: WebSocket, fake: FakeSky, sub: Subscriber, hello: asyncio.Event) -> None:
    while True:
        try:
            text = await ws.receive_text()
        except (WebSocketDisconnect, RuntimeError, KeyError):
            return
        try:
            sub.filter = _update_filter(orjson.loads(text))
        except (orjson.JSONDecodeError, BadOptions) as exc:
            fake.requests["badMessages"] += 1
            await ws.close(code=1008, reason=str(exc)[:120])
            return
        fake.requests["optionsUpdate"] += 1
        sub.updates += 1
        hello.set()
