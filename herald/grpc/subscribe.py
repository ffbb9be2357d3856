"""``Subscribe``: one subscription per call, through the same flow as every transport.

The request is validated by :func:`herald.delivery.subscribe.prepare` (the same parser,
resume plan and rate limit as Socket.IO, ``/ws`` and SSE), so a bad filter gets the same
words here as there, as ``INVALID_ARGUMENT``. The reply stream:

1. ``started {recovered, offset}``; when ``since`` fell off the log (``recovered: false``)
   a ``gap {reason, since, oldest}`` follows and delivery restarts at the oldest entry;
2. the missed events (resume), then live ones: ``event {offset, json}``, ``json`` being the
   exact body every transport sends (with ``max_batch`` > 1, events that arrive together
   go as one ``events`` reply of up to that many, in log order); ``heartbeat {offset}``
   when nothing else went out for ``HERALD_HEARTBEAT_INTERVAL``;
3. ``success {reason, offset}`` when the server stops, or ``error {error, detail, offset}``
   and then a status: a client more than ``HERALD_CLIENT_QUEUE`` events behind is cut with
   ``RESOURCE_EXHAUSTED``, the reason in the details and its resume offset also in the
   trailing metadata ``herald-resume-offset``; a refused request gets its status too.

gRPC's flow control is what makes a client slow: a reply waits while the client does not
read, and live events queue behind it. At the cut the backlog is dropped and the call's
connection slot given back at once; the status follows the replies the client still
holds, so a client that never reads again only keeps one pending reply on the server
until it reads or its connection goes (or the server stops).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import grpc
import orjson
from grpc import aio

from herald import metrics
from herald.auth import Principal
from herald.delivery import subscribe
from herald.delivery.backlog import entry_priority
from herald.delivery.connections import Slot
from herald.delivery.entry import Entry, OffsetKey
from herald.delivery.hub import ClientGone
from herald.delivery.outbox import Outbox
from herald.delivery.replay import Resume
from herald.delivery.transport import Context
from herald.errors import HeraldError, ValidationError
from herald.grpc.calls import ERROR_KEY, RESUME_KEY, detail_of, refuse
from herald.grpc.v1 import herald_pb2 as pb

TRANSPORT = "grpc"
#: Replies taken from the backlog per wake-up (an urgent event queued meanwhile goes next).
BATCH = 32
#: The largest ``max_batch`` a request may ask for.
MAX_BATCH = 1000
#: Wire tags: ``SubscribeReply.event`` (2), ``SubscribeReply.events`` (6) and
#: ``EventBatch.events`` (1), all length-delimited.
EVENT_TAG, BATCH_TAG, ELEMENT_TAG = b"\x12", b"\x32", b"\x0a"
SLOW_CONSUMER = "slow_consumer"
SHUTDOWN = "server_shutdown"


#: A serialized reply, the offset it lets a client resume from ("" for none), and how
#: many events it carries.
Reply = tuple[bytes, str, int]


def event_reply(entry: Entry) -> Reply:
    """The serialized ``event`` reply of ``entry``, built once and shared by every client."""
    cached: Reply | None = entry.cache.get(TRANSPORT)
    if cached is None:
        msg = pb.SubscribeReply(event=pb.Event(offset=entry.offset, json=entry.data))
        cached = entry.cache[TRANSPORT] = (msg.SerializeToString(), entry.offset, 1)
    return cached


def _overtaking_reply(entry: Entry) -> Reply:
    """Sent ahead of an older event: marked, and not a resume point."""
    event = pb.Event(offset=entry.offset, json=entry.data, overtook=True)
    return pb.SubscribeReply(event=event).SerializeToString(), "", 1


def error_reply(error: str, detail: str, offset: str = "") -> bytes:
    """The ``error`` reply a failing stream ends with, before its status."""
    return pb.SubscribeReply(
        error=pb.Error(error=error, detail=detail, offset=offset)
    ).SerializeToString()


def _control(reply: pb.SubscribeReply) -> Reply:
    return reply.SerializeToString(), "", 0


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _batch(run: list[Reply]) -> Reply:
    """Consecutive ``event`` replies as one ``events`` reply, spliced, not re-encoded: an
    ``event`` reply is field 2 holding an ``Event``, and ``EventBatch`` is field 1 repeated,
    so each becomes an element by changing its tag; the resume point is the last in-order
    event's."""
    if len(run) == 1:
        return run[0]
    body = b"".join(ELEMENT_TAG + reply[1:] for reply, _, _ in run)
    resume = next((offset for _, offset, _ in reversed(run) if offset), "")
    return BATCH_TAG + _varint(len(body)) + body, resume, len(run)


def grouped(replies: list[Reply], most: int) -> list[Reply]:
    """``replies`` with runs of consecutive events batched, at most ``most`` per batch."""
    if most <= 1:
        return replies
    out: list[Reply] = []
    run: list[Reply] = []
    for reply in replies:
        if reply[0][:1] == EVENT_TAG:
            run.append(reply)
            if len(run) >= most:
                out.append(_batch(run))
                run = []
            continue
        if run:
            out.append(_batch(run))
            run = []
        out.append(reply)
    if run:
        out.append(_batch(run))
    return out


def raw_request(request: pb.SubscribeRequest) -> dict[str, Any]:
    """The request as the query every transport parses (``filters`` is a JSON object)."""
    raw: dict[str, Any] = {}
    if request.stream_ids:
        raw["streamIds"] = list(request.stream_ids)
    if request.types:
        raw["types"] = list(request.types)
    if request.filters:
        try:
            raw["filters"] = orjson.loads(request.filters)
        except orjson.JSONDecodeError as exc:
            raise ValidationError(f"filters: not JSON: {exc}") from exc
    if request.since:
        raw["since"] = request.since
    return raw


class Subscriber:
    """One ``Subscribe`` call as a hub sink; its replies wait in a bounded outbox."""

    transport = TRANSPORT

    def __init__(self, ctx: Context, slot: Slot, max_batch: int = 0) -> None:
        self.ctx = ctx
        self.slot = slot
        self.max_batch = max_batch
        self.outbox: Outbox[Reply] = Outbox(ctx.settings.client_queue)
        #: Events queued and not yet written (the queue's bound counts events, not replies).
        self.waiting = 0
        self.floor: OffsetKey | None = None
        #: Set when delivery ended: ``(status or None for success, reason)``.
        self.ended: tuple[grpc.StatusCode | None, str] | None = None
        #: The offset of the last event written to the call without overtaking another.
        self.resume_offset = ""
        #: Called once when delivery ends (gives the connection slot back).
        self.on_end: Callable[[], None] = lambda: None

    # --- the hub's side ---------------------------------------------------------
    def offer_many(self, entries: Sequence[Entry], shared: dict[Any, Any]) -> None:
        self.slot.sent += len(entries)
        if self.ended is not None:
            return
        most = self.max_batch
        if most > 1:
            # Batches go in log order (no overtaking), ready-made: built once for every
            # member of the group, queued as one reply each, counted as their events.
            if self.waiting + len(entries) > self.outbox.limit:
                self.cut(self._behind())
                return
            key = (TRANSPORT, most)
            batches: list[Reply] | None = shared.get(key)
            if batches is None:
                batches = shared[key] = [
                    _batch([event_reply(e) for e in entries[i : i + most]])
                    for i in range(0, len(entries), most)
                ]
            self.waiting += len(entries)
            for reply in batches:
                self.outbox.push(reply)
            return
        for entry in entries:
            if self.ended is not None:
                return
            self.waiting += 1
            pushed = self.outbox.push(
                event_reply(entry),
                entry_priority(entry),
                functools.partial(_overtaking_reply, entry),
            )
            if not pushed:
                self.cut(self._behind())

    def _behind(self) -> str:
        behind = f"more than {self.outbox.limit} events behind"
        return f"{SLOW_CONSUMER}: {behind}; resume from your offset"

    async def put(self, entry: Entry) -> None:
        await self.outbox.put(
            event_reply(entry), entry_priority(entry), lambda: _overtaking_reply(entry)
        )
        self.waiting += 1
        self.slot.sent += 1

    async def notice(self, name: str, payload: dict[str, Any]) -> None:
        """Replay-subscription markers; ``Subscribe`` has no replay field, so none come."""

    # --- ending -----------------------------------------------------------------
    def cut(self, reason: str) -> None:
        """Too slow: stop delivery now, end with ``RESOURCE_EXHAUSTED`` and ``reason``."""
        if self.ended is not None:
            return
        metrics.SLOW_CLIENT_DISCONNECTS.labels(TRANSPORT).inc()
        self._end(grpc.StatusCode.RESOURCE_EXHAUSTED, reason)

    def finish(self, reason: str) -> None:
        """End cleanly with ``success {reason, offset}`` (server shutdown)."""
        self._end(None, reason)

    def _end(self, code: grpc.StatusCode | None, reason: str) -> None:
        if self.ended is None:
            self.ended = (code, reason)
            self.ctx.hub.leave(self)
            self.outbox.close()
            self.on_end()

    # --- the call's side --------------------------------------------------------
    async def replies(self, plan: subscribe.Plan, since: str = "") -> AsyncIterator[bytes]:
        """Every reply of the call, in order, until delivery ends (``since``: as asked)."""

        def ack(resume: Resume) -> None:
            started = pb.Started(recovered=resume.recovered, offset=resume.offset)
            self.outbox.push(_control(pb.SubscribeReply(started=started)))
            if not resume.recovered:
                gap = pb.Gap(reason="trimmed", since=since, oldest=resume.offset)
                self.outbox.push(_control(pb.SubscribeReply(gap=gap)))

        begun = subscribe.begin(self.ctx, self, plan, ack=ack, active=lambda: self.ended is None)
        replay = asyncio.create_task(self._replay(begun)) if begun is not None else None
        heartbeat = self.ctx.settings.heartbeat_interval
        try:
            while True:
                try:
                    batch = await asyncio.wait_for(self.outbox.get(BATCH), heartbeat)
                except TimeoutError:
                    beat = pb.Heartbeat(offset=self.ctx.tail.offset)
                    yield pb.SubscribeReply(heartbeat=beat).SerializeToString()
                    continue
                except ClientGone:
                    return
                for reply, offset, count in grouped(batch, self.max_batch):
                    yield reply
                    self.waiting -= count
                    if offset:
                        self.resume_offset = offset
        finally:
            self._end(grpc.StatusCode.CANCELLED, "call ended")
            if replay is not None:
                replay.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await replay

    async def _replay(self, begun: Any) -> None:
        with contextlib.suppress(ClientGone):
            await begun


async def serve(
    ctx: Context,
    request: pb.SubscribeRequest,
    context: aio.ServicerContext[Any, Any],
    principal: Principal,
    address: tuple[str, str],
    calls: set[Subscriber],
) -> AsyncIterator[bytes]:
    """The body of ``Subscribe`` once the caller is known; ``calls`` holds the live ones."""
    host, peer = address
    try:
        if request.max_batch > MAX_BATCH:
            raise ValidationError(f"max_batch: at most {MAX_BATCH} (got {request.max_batch})")
        plan = await subscribe.prepare(ctx, f"grpc:{peer}", raw_request(request), principal)
        slot = ctx.connections.admit(TRANSPORT, host, principal.subject)
    except HeraldError as exc:
        yield error_reply(exc.code, detail_of(exc))
        await refuse(context, exc)
    sub = Subscriber(ctx, slot, request.max_batch)
    slot.subscribed(TRANSPORT, plan.selector)
    slot.depth = lambda: len(sub.outbox)
    calls.add(sub)
    metrics.CONNECTED_CLIENTS.labels(TRANSPORT).inc()

    def release() -> None:
        if sub in calls:
            calls.discard(sub)
            ctx.connections.release(slot)
            metrics.CONNECTED_CLIENTS.labels(TRANSPORT).dec()

    sub.on_end = release
    try:
        async for reply in sub.replies(plan, request.since):
            yield reply
        code, reason = sub.ended or (None, SHUTDOWN)
        if code is None:
            done = pb.Success(reason=reason, offset=sub.resume_offset)
            yield pb.SubscribeReply(success=done).SerializeToString()
            return
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            detail = f"{reason} (last offset sent: {sub.resume_offset or '-'})"
            yield error_reply(SLOW_CONSUMER, detail, sub.resume_offset)
            context.set_trailing_metadata(
                ((ERROR_KEY, SLOW_CONSUMER), (RESUME_KEY, sub.resume_offset))
            )
            await context.abort(code, detail)
    finally:
        release()
