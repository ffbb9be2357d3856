"""Server-sent events: ``GET /api/events`` and ``GET /api/streams/{id}/events``.

Each event is ``id: <offset>``, ``event: <type>``, ``data: <body>``; a reconnecting
``EventSource`` sends ``Last-Event-ID`` and resumes after it (``?since=`` does the same by
hand). The stream opens with an ``event: subscribed`` carrying ``{recovered, offset}``,
sends a ``: heartbeat`` comment every ``heartbeat_interval`` (which is also how a dead
client is noticed: the write fails), and ends with ``event: error`` when the client falls
more than ``client_queue`` events behind. With ``?replay={"from":…}`` it sends that range of
the log (after an ``event: replay:gap`` when part of it was trimmed), then
``event: replay:done`` ``{from, to, count}``, then only heartbeats: close it then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from herald import metrics
from herald.auth import token_from_headers_and_query
from herald.delivery import release, subscribe
from herald.delivery.backlog import entry_priority, overtaking_text
from herald.delivery.connections import HeldResponse, Refused, Slot, refusal
from herald.delivery.entry import Entry, OffsetKey
from herald.delivery.hub import ClientGone
from herald.delivery.outbox import Outbox
from herald.delivery.replay import Resume
from herald.delivery.subscription import raw_from_params
from herald.delivery.transport import Context
from herald.errors import HeraldError

log = logging.getLogger(__name__)

TRANSPORT = "sse"
#: Waiting events written per chunk: few enough that an urgent event queued meanwhile goes
#: out next (see :mod:`herald.delivery.backlog`), many enough that a burst is few writes.
BATCH = 32
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


def _sse_frame(entry: Entry) -> str:
    frame = entry.cache.get(TRANSPORT)
    if frame is None:
        frame = entry.cache[TRANSPORT] = (
            f"id: {entry.offset}\nevent: {entry.type}\ndata: {entry.text}\n\n"
        )
    return str(frame)


def _overtaking_frame(entry: Entry) -> str:
    """An event sent ahead of an older one: marked, and with no ``id:``, so the client's
    ``Last-Event-ID`` stays a safe resume point (see :mod:`herald.delivery.backlog`)."""
    return f"event: {entry.type}\ndata: {overtaking_text(entry)}\n\n"


def _error(exc: HeraldError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status)


class SseStream:
    """One SSE response as a hub sink."""

    transport = TRANSPORT

    def __init__(self, ctx: Context, socket: asyncio.Transport | None = None) -> None:
        self.ctx = ctx
        self.outbox: Outbox[str] = Outbox(ctx.settings.client_queue)
        self.floor: OffsetKey | None = None
        self.ended: str | None = None
        self.error = "slow_consumer"
        self.socket = socket
        self.finished = False
        self.slot = Slot(TRANSPORT, "unknown", "unknown")

    def offer(self, entry: Entry) -> None:
        self.slot.sent += 1
        pushed = self.outbox.push(
            _sse_frame(entry), entry_priority(entry), lambda: _overtaking_frame(entry)
        )
        if not pushed:
            self.end(
                f"too slow: more than {self.outbox.limit} events behind; resume from your offset"
            )
            metrics.SLOW_CLIENT_DISCONNECTS.labels(TRANSPORT).inc()
            if self.socket is not None:
                # The closing error event goes out if the client reads; if not, let go.
                release.release(self.socket, done=lambda: self.finished)

    def offer_many(self, entries: Sequence[Entry], shared: dict[Any, Any]) -> None:
        for entry in entries:
            if self.ended is not None:
                return
            self.offer(entry)

    async def put(self, entry: Entry) -> None:
        await self.outbox.put(
            _sse_frame(entry), entry_priority(entry), lambda: _overtaking_frame(entry)
        )
        self.slot.sent += 1

    async def notice(self, name: str, payload: dict[str, Any]) -> None:
        await self.outbox.put(f"event: {name}\ndata: {orjson.dumps(payload).decode()}\n\n")

    def end(self, reason: str, error: str = "slow_consumer") -> None:
        """Stop delivery now; the response ends with an ``error`` event ``{error, detail}``."""
        if self.ended is None:
            self.ended = reason
            self.error = error
            self.ctx.hub.leave(self)
            self.outbox.close()

    async def body(self, plan: subscribe.Plan) -> AsyncIterator[str]:
        def ack(resume: Resume) -> None:
            data = orjson.dumps({"recovered": resume.recovered, "offset": resume.offset})
            self.outbox.push(f"retry: 2000\nevent: subscribed\ndata: {data.decode()}\n\n")

        begun = subscribe.begin(self.ctx, self, plan, ack=ack, active=lambda: self.ended is None)
        replay = asyncio.create_task(begun) if begun is not None else None
        heartbeat = self.ctx.settings.heartbeat_interval
        try:
            while True:
                try:
                    frames = await asyncio.wait_for(self.outbox.get(BATCH), heartbeat)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                except ClientGone:
                    break
                yield "".join(frames)
            detail = orjson.dumps({"error": self.error, "detail": self.ended}).decode()
            yield f"event: error\ndata: {detail}\n\n"
        finally:
            self.end("closed")
            if replay is not None:
                replay.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await replay


async def _open(ctx: Context, request: Request, stream_id: str | None) -> Response:
    try:
        raw = _query(request, stream_id)
        principal = ctx.auth.authenticate(
            token_from_headers_and_query(request.headers, request.query_params)
        )
        client = request.client.host if request.client else "unknown"
        plan = await subscribe.prepare(ctx, f"sse:{client}", raw, principal)
        slot = ctx.connections.admit(TRANSPORT, client, principal.subject)
    except subscribe.RateLimited as exc:
        return JSONResponse(
            {"error": "rate_limited", "detail": exc.detail},
            status_code=429,
            headers={"Retry-After": str(int(exc.retry_after) + 1)},
        )
    except Refused as exc:
        return refusal(exc)
    except HeraldError as exc:
        return _error(exc)
    stream = SseStream(ctx, release.transport_of(request.scope))
    stream.slot = slot
    slot.subscribed(TRANSPORT, plan.selector)
    slot.depth = lambda: len(stream.outbox)
    ctx.sse_streams.add(stream)
    metrics.CONNECTED_CLIENTS.labels(TRANSPORT).inc()

    async def body() -> AsyncIterator[str]:
        try:
            async for chunk in stream.body(plan):
                yield chunk
        finally:
            stream.finished = True
            ctx.sse_streams.discard(stream)
            metrics.CONNECTED_CLIENTS.labels(TRANSPORT).dec()

    return HeldResponse(
        body(),
        media_type="text/event-stream",
        headers=HEADERS,
        registry=ctx.connections,
        slot=slot,
    )


def _query(request: Request, stream_id: str | None) -> dict[str, Any]:
    """The subscription in the URL (as ``GET /api/events/log`` reads it), the path's stream,
    and ``Last-Event-ID`` over ``since``."""
    raw = raw_from_params(request.query_params, pull=False)
    if stream_id is not None:
        raw["streamIds"] = [stream_id]
    # A replay subscription has its own range; a reconnect starts it again.
    since = raw.get("since") if "replay" in raw else request.headers.get("last-event-id")
    since = since or raw.get("since")
    if since:
        raw["since"] = since
    return raw


def install(app: FastAPI, ctx: Context) -> None:
    @app.get("/api/events", tags=["events"], summary="Server-sent events: every stream")
    async def events(request: Request) -> Response:
        return await _open(ctx, request, None)

    @app.get(
        "/api/streams/{stream_id}/events", tags=["events"], summary="Server-sent events: one stream"
    )
    async def stream_events(stream_id: str, request: Request) -> Response:
        return await _open(ctx, request, stream_id)
