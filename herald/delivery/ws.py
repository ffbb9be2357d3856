"""WebSocket ``/ws`` with the seed's lifecycle messages.

Client → server::

    {"type": "events:stream:v1:requested", "id": "a",
     "payload": {streamIds?, types?, filters?, since?}}
    {"type": "events:stream:v1:unsubscribe", "id": "a"}

Server → client: ``events:stream:v1:started`` (``payload: {recovered, offset}``), one
``events:stream:v1:stream`` per event (``payload`` = the event body), ``…:heartbeat`` every
``heartbeat_interval``, ``…:success`` when a subscription ends, ``…:error`` (``payload:
{error, detail}``) for every bad request; the connection survives bad requests. X write
commands share the socket (:mod:`herald.delivery.wscommands`). A replay
subscription (``payload.replay``) may send ``…:replay:gap`` first and ends with
``…:replay:done`` (``payload: {from, to, count}``); its id is then free.

Close codes: 4401 refused credentials, 1013 connection cap reached (the reason says which),
4008 too slow (more than ``client_queue`` behind; an ``error`` ``slow_consumer`` comes
first), 4408 idle (no subscription and no message for ``idle_timeout``), 1001 server
shutdown. The close frame goes out at once, and the socket is released right after a short
bounded flush (:mod:`herald.delivery.release`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from herald import metrics
from herald.auth import Principal, token_from_headers_and_query
from herald.delivery import direct, release, subscribe, wscommands
from herald.delivery.backlog import entry_priority, overtaking_text
from herald.delivery.connections import CLOSE_TRY_LATER, Refused, Slot
from herald.delivery.entry import Entry, OffsetKey
from herald.delivery.hub import ClientGone
from herald.delivery.outbox import Outbox
from herald.delivery.replay import Resume
from herald.delivery.transport import Context
from herald.errors import HeraldError

log = logging.getLogger(__name__)

TRANSPORT = "ws"
PREFIX = "events:stream:v1:"
REQUESTED, UNSUBSCRIBE = PREFIX + "requested", PREFIX + "unsubscribe"
STARTED, STREAM, HEARTBEAT = PREFIX + "started", PREFIX + "stream", PREFIX + "heartbeat"
SUCCESS, ERROR = PREFIX + "success", PREFIX + "error"
CLOSE_UNAUTHORIZED, CLOSE_TOO_SLOW, CLOSE_IDLE = 4401, 4008, 4408
MAX_SUBSCRIPTIONS = 100
SLOW_CONSUMER = "slow_consumer"


#: A text message as sent: its WebSocket frame and its payload (see :func:`direct.write`).
Message = tuple[bytes, bytes]


def message(data: bytes) -> Message:
    return direct.text_frame(data), data


def _frame(msg_type: str, sub_id: Any = None, payload: Any = None) -> Message:
    msg: dict[str, Any] = {"type": msg_type}
    if sub_id is not None:
        msg["id"] = sub_id
    if payload is not None:
        msg["payload"] = payload
    return message(orjson.dumps(msg))


class BadRequest(Exception):
    def __init__(self, error: str, detail: str, sub_id: Any = None) -> None:
        super().__init__(detail)
        self.error, self.detail, self.sub_id = error, detail, sub_id


class WsSubscription:
    """One subscription of a connection, as a hub sink."""

    transport = TRANSPORT

    def __init__(self, conn: WsConnection, sub_id: str | int) -> None:
        self.conn = conn
        self.id = sub_id
        self.floor: OffsetKey | None = None
        self.replay: asyncio.Task[None] | None = None
        self._head = (
            '{"type":"' + STREAM + '","id":' + orjson.dumps(sub_id).decode() + ',"payload":'
        )

    def message(self, entry: Entry) -> Message:
        """This subscription's frame of ``entry``, shared by subscriptions with the same id."""
        cached: Message | None = entry.cache.get(self._head)
        if cached is None:
            cached = entry.cache[self._head] = message((self._head + entry.text + "}").encode())
        return cached

    def overtaking(self, entry: Entry) -> Message:
        """The frame of ``entry`` sent ahead of an older event (see :mod:`.backlog`)."""
        return message((self._head + overtaking_text(entry) + "}").encode())

    def offer_many(self, entries: Sequence[Entry], shared: dict[Any, Any]) -> None:
        self.conn.slot.sent += len(entries)
        proto = self.conn.writable_now()
        if proto is not None and direct.shares_frames(proto):
            # Keyed by the id's head: subscriptions of the group with the same id share it.
            direct.write_shared(
                proto, shared, self._head, lambda: (self.message(e)[0] for e in entries)
            )
            return
        for entry in entries:
            self.conn.push(
                self.message(entry),
                entry_priority(entry),
                functools.partial(self.overtaking, entry),
            )

    async def put(self, entry: Entry) -> None:
        await self.conn.outbox.put(
            self.message(entry), entry_priority(entry), lambda: self.overtaking(entry)
        )
        self.conn.slot.sent += 1

    async def notice(self, name: str, payload: dict[str, Any]) -> None:
        await self.conn.outbox.put(_frame(PREFIX + name, self.id, payload))


class WsConnection:
    """One ``/ws`` connection.

    Every frame goes out in order through :meth:`push`: straight to the socket
    (:mod:`herald.delivery.direct`) when nothing is waiting, else through the outbox, which
    the send loop drains as the socket's buffer empties.
    """

    def __init__(
        self,
        ctx: Context,
        ws: WebSocket,
        principal: Principal,
        client_id: str,
        slot: Slot | None = None,
    ) -> None:
        self.ctx = ctx
        self.ws = ws
        self.proto = direct.protocol_of(ws.scope)
        self.principal = principal
        self.client_id = client_id
        self.outbox: Outbox[Message] = Outbox(ctx.settings.client_queue)
        self._sending = False
        self.subs: dict[str | int, WsSubscription] = {}
        self.close_code: int | None = None
        self.close_reason = ""
        self._closed = asyncio.Event()
        self.slot = slot or Slot(TRANSPORT, client_id, principal.subject)
        self.slot.depth = lambda: len(self.outbox)
        self.commands = wscommands.WsCommands(self)

    def writable_now(self) -> direct.HeraldWebSocketProtocol | None:
        """The socket, when a frame may go straight to it without overtaking another."""
        proto = self.proto
        if (
            proto is not None
            and not self._sending
            and not self.outbox
            and self.close_code is None
            and direct.is_writable(proto)
        ):
            return proto
        return None

    def push(
        self,
        msg: Message,
        priority: int | None = None,
        overtaking: Callable[[], Message] | None = None,
    ) -> None:
        """Send ``msg`` now, or queue it: an event with its ``priority``, a control
        message (``None``) as a barrier no event overtakes."""
        proto = self.writable_now()
        if proto is not None:
            direct.write(proto, *msg)
        elif not self.outbox.push(msg, priority, overtaking):
            behind = f"more than {self.outbox.limit} events behind"
            self.cut(CLOSE_TOO_SLOW, f"{SLOW_CONSUMER}: {behind}; resume from your offset")

    def cut(self, code: int, reason: str) -> None:
        """Stop all delivery now; the connection closes with ``code`` and ``reason``."""
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = code, reason[:120]
        if code == CLOSE_TOO_SLOW:
            metrics.SLOW_CLIENT_DISCONNECTS.labels(TRANSPORT).inc()
        self.drop_all()
        self.outbox.close()
        self._closed.set()

    def drop_all(self) -> None:
        for sub in list(self.subs.values()):
            self._drop(sub)

    def _drop(self, sub: WsSubscription) -> None:
        self.subs.pop(sub.id, None)
        self.slot.unsubscribed(sub.id)
        self.ctx.hub.leave(sub)
        if sub.replay is not None:
            sub.replay.cancel()

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(self._send_loop()),
            asyncio.create_task(self._heartbeat_loop()),
            asyncio.create_task(self._receive_loop()),
        ]
        try:
            await self._closed.wait()
        finally:
            self.drop_all()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.close_code is not None:
            await self._close(self.close_code, self.close_reason)

    async def _close(self, code: int, reason: str) -> None:
        """Say why (a slow consumer first gets an ``error``), close, and let the socket go."""
        before: list[bytes] = []
        if code == CLOSE_TOO_SLOW:
            before.append(_frame(ERROR, None, {"error": SLOW_CONSUMER, "detail": reason})[1])
        if self.proto is not None and release.close_websocket(self.proto, code, reason, before):
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                for data in before:
                    await self.ws.send_text(data.decode())
                await self.ws.close(code, reason)

    async def _send_loop(self) -> None:
        proto = self.proto
        try:
            while True:
                # One frame at a time: an urgent event queued meanwhile goes out next.
                batch = await self.outbox.get(1)
                self._sending = True
                for frame, data in batch:
                    if proto is None:
                        await self.ws.send_text(data.decode())
                        continue
                    await proto.writable.wait()
                    if not direct.is_open(proto):
                        raise ClientGone
                    direct.write(proto, frame, data)
                self._sending = False
        except (ClientGone, WebSocketDisconnect, RuntimeError, OSError):
            self._closed.set()

    async def _heartbeat_loop(self) -> None:
        interval = self.ctx.settings.heartbeat_interval
        while True:
            await asyncio.sleep(interval)
            self.push(_frame(HEARTBEAT, payload={"offset": self.ctx.tail.offset}))

    async def _receive_loop(self) -> None:
        try:
            while True:
                timeout = None if self.subs else self.ctx.settings.idle_timeout
                try:
                    message = await asyncio.wait_for(self.ws.receive(), timeout)
                except TimeoutError:
                    self.cut(CLOSE_IDLE, "idle timeout: no subscription and no message")
                    return
                if message["type"] == "websocket.disconnect":
                    break
                raw = message.get("text") or message.get("bytes") or ""
                try:
                    await self._handle(raw)
                except BadRequest as exc:
                    self.slot.errors += 1
                    self.push(_frame(ERROR, exc.sub_id, {"error": exc.error, "detail": exc.detail}))
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        self._closed.set()

    async def _handle(self, raw: str | bytes) -> None:
        if len(raw) > self.ctx.settings.max_body_bytes:
            raise BadRequest(
                "too_large", f"message larger than {self.ctx.settings.max_body_bytes} bytes"
            )
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest("invalid_json", f"message is not JSON: {exc}") from exc
        if not isinstance(msg, dict):
            raise BadRequest("invalid_message", "message must be a JSON object with a type")
        sub_id = msg.get("id")
        msg_type = msg.get("type")
        if not isinstance(msg_type, str):
            raise BadRequest("invalid_message", "type must be a string", sub_id)
        if wscommands.is_command(msg_type) and self.commands.receive(msg, msg_type):
            return
        if msg_type not in (REQUESTED, UNSUBSCRIBE):
            known = f"{REQUESTED}, {UNSUBSCRIBE} or commands:{{type}}:v1:requested"
            raise BadRequest(
                "unknown_type", f"unknown type {msg_type[:64]!r}; expected {known}", sub_id
            )
        if (
            isinstance(sub_id, bool)
            or not isinstance(sub_id, (str, int))
            or not (isinstance(sub_id, int) or 0 < len(sub_id) <= 128)
        ):
            raise BadRequest("invalid_id", "id must be a string of 1-128 characters or an integer")
        if msg_type == UNSUBSCRIBE:
            self._unsubscribe(sub_id)
        else:
            await self._subscribe(sub_id, msg.get("payload"))

    def _unsubscribe(self, sub_id: str | int) -> None:
        sub = self.subs.get(sub_id)
        if sub is None:
            raise BadRequest("unknown_id", f"no subscription with id {sub_id!r}", sub_id)
        self._drop(sub)
        self.push(
            _frame(SUCCESS, sub_id, {"reason": "unsubscribed", "offset": self.ctx.tail.offset})
        )

    async def _subscribe(self, sub_id: str | int, payload: Any) -> None:
        if sub_id in self.subs:
            raise BadRequest("duplicate_id", f"subscription {sub_id!r} is already active", sub_id)
        if len(self.subs) >= MAX_SUBSCRIPTIONS:
            raise BadRequest("too_many", f"at most {MAX_SUBSCRIPTIONS} subscriptions", sub_id)
        sub = WsSubscription(self, sub_id)
        self.subs[sub_id] = sub
        try:
            plan = await subscribe.prepare(self.ctx, self.client_id, payload, self.principal)
        except HeraldError as exc:
            if self.subs.get(sub_id) is sub:
                del self.subs[sub_id]
            raise BadRequest(exc.code, _refusal_detail(exc), sub_id) from exc
        self.slot.subscribed(sub_id, plan.selector)
        if self.subs.get(sub_id) is not sub:
            return

        def ack(resume: Resume) -> None:
            self.push(
                _frame(STARTED, sub_id, {"recovered": resume.recovered, "offset": resume.offset})
            )

        replay = subscribe.begin(
            self.ctx, sub, plan, ack=ack, active=lambda: self.subs.get(sub_id) is sub
        )
        if replay is not None:
            ranged = plan.ranged is not None
            sub.replay = asyncio.create_task(self._replay(sub, replay, ranged=ranged))

    async def _replay(self, sub: WsSubscription, replay: Any, *, ranged: bool = False) -> None:
        try:
            await replay
            if ranged and self.subs.get(sub.id) is sub:
                # A replay subscription ends with its replay:done; its id is free again.
                sub.replay = None
                self._drop(sub)
        except ClientGone:
            pass
        except Exception:
            log.exception("replay of subscription %r failed", sub.id)
            if self.subs.get(sub.id) is sub:
                self._drop(sub)
                self.push(
                    _frame(ERROR, sub.id, {"error": "replay_failed", "detail": "resubscribe"})
                )


def _refusal_detail(exc: HeraldError) -> str:
    if isinstance(exc, subscribe.RateLimited):
        return f"too many requests; retry in {exc.retry_after:.2f}s"
    return exc.detail


async def endpoint(ctx: Context, ws: WebSocket) -> None:
    """The ``/ws`` route: authenticate, then serve the connection until it ends."""
    token = token_from_headers_and_query(ws.headers, ws.query_params)
    await ws.accept()
    try:
        principal = ctx.auth.authenticate(token)
    except HeraldError as exc:
        await ws.close(CLOSE_UNAUTHORIZED, exc.detail[:120])
        return
    client = ws.client
    client_id = f"ws:{client.host}:{client.port}" if client else f"ws:{id(ws)}"
    try:
        slot = ctx.connections.admit(
            TRANSPORT, client.host if client else "unknown", principal.subject
        )
    except Refused as exc:
        await ws.close(CLOSE_TRY_LATER, exc.detail[:120])
        return
    conn = WsConnection(ctx, ws, principal, client_id, slot)
    ctx.ws_connections.add(conn)
    metrics.CONNECTED_CLIENTS.labels(TRANSPORT).inc()
    try:
        await conn.run()
    finally:
        ctx.connections.release(slot)
        ctx.ws_connections.discard(conn)
        ctx.limiter.forget(client_id)
        metrics.CONNECTED_CLIENTS.labels(TRANSPORT).dec()
