"""Socket.IO at ``/socket.io``: the seed's compat mode plus subscriptions with resume.

A client that never subscribes is in the compat group of its principal and receives every
event it may see, under the event name ``type``. ``subscribe`` moves it to the group of
its selector (after replaying from ``since``); ``unsubscribe`` leaves delivery altogether.

Live delivery bypasses python-socketio's per-recipient emit: the Socket.IO packet
``42["type",{...}]`` is built once per event, framed once, and written straight to each
recipient's WebSocket (:mod:`herald.delivery.direct`); a client still long-polling gets it
through its Engine.IO queue. Past ``client_queue`` events of backlog the client is cut off
with a reason.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import parse_qsl

import engineio.exceptions
import engineio.packet
import socketio
from engineio.async_drivers.asgi import WebSocket as EngineAsgiWebSocket

from herald import metrics
from herald.auth import Principal, token_from_headers_and_query
from herald.delivery import direct, release, sioguard
from herald.delivery.connections import Refused, Slot, client_address
from herald.delivery.entry import Entry, OffsetKey, entries, offset_key
from herald.delivery.hub import ClientGone
from herald.delivery.replay import catch_up, plan_resume
from herald.delivery.sent import SentWindows
from herald.delivery.subscription import compat_selector, parse_subscription
from herald.delivery.transport import Context
from herald.errors import HeraldError

log = logging.getLogger(__name__)

TRANSPORT = "socketio"
FRAME_CACHE = "socketio.frame"
#: Where :class:`_EngineWebSocket` leaves the uvicorn connection on the Engine.IO socket.
PROTOCOL_ATTR = "herald_websocket"
#: python-engineio clients refuse a long-polling payload of more packets than this.
MAX_PACKETS_PER_POLL = 16
#: Sent just before a server-side disconnect, so a client knows why and can resume.
DISCONNECT_EVENT = "herald:disconnect"


def event_packet(entry: Entry) -> engineio.packet.Packet:
    """The Engine.IO packet carrying ``42["type",body]``, built once per event."""
    pkt = entry.cache.get(TRANSPORT)
    if pkt is None:
        data = '2["' + entry.type.replace("\\", "\\\\").replace('"', '\\"') + '",' + entry.text
        pkt = engineio.packet.Packet(engineio.packet.MESSAGE, data=data + "]")
        pkt.encode()  # fills the shared encode cache once
        entry.cache[TRANSPORT] = pkt
    return pkt


def event_frame(entry: Entry) -> tuple[bytes, bytes]:
    """The WebSocket frame of :func:`event_packet` (and its payload), built once per event."""
    cached: tuple[bytes, bytes] | None = entry.cache.get(FRAME_CACHE)
    if cached is None:
        data = str(event_packet(entry).encode()).encode()
        cached = entry.cache[FRAME_CACHE] = (direct.text_frame(data), data)
    return cached


async def _bounded_poll(sock: Any) -> list[Any]:
    """Engine.IO's ``AsyncSocket.poll``, taking at most :data:`MAX_PACKETS_PER_POLL` packets.

    A long-polling response carries every queued packet in one payload, and python-engineio
    clients refuse a payload of more than 16 packets (and drop the connection). A burst of
    events must reach them over several polls instead.
    """
    try:
        first = await asyncio.wait_for(
            sock.queue.get(), sock.server.ping_interval + sock.server.ping_timeout
        )
        sock.queue.task_done()
    except (TimeoutError, asyncio.CancelledError) as exc:
        raise engineio.exceptions.QueueEmpty() from exc
    if first is None:
        return []
    packets = [first]
    while len(packets) < MAX_PACKETS_PER_POLL:
        try:
            pkt = sock.queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        sock.queue.task_done()
        if pkt is None:
            sock.queue.put_nowait(None)
            break
        packets.append(pkt)
    return packets


class _EngineWebSocket(EngineAsgiWebSocket):  # type: ignore[misc]
    """Engine.IO's ASGI WebSocket, which also tells its socket the uvicorn connection."""

    async def __call__(self, environ: dict[str, Any]) -> Any:
        sock = getattr(self.handler, "__self__", None)
        proto = direct.protocol_of(environ.get("asgi.scope"))
        if sock is not None and proto is not None:
            setattr(sock, PROTOCOL_ATTR, proto)
        return await super().__call__(environ)

    async def wait(self) -> Any:
        return sioguard.check_frame(await super().wait())


class SioClient:
    """One connected Socket.IO client as a hub sink.

    Once the client is on a WebSocket, events are written straight to its socket (see
    :mod:`herald.delivery.direct`), or to :attr:`backlog` while the socket's buffer is
    full. A client still long-polling gets them through Engine.IO's queue, and stays on
    that queue for good once anything went there, so that events never overtake each other.
    """

    transport = TRANSPORT

    def __init__(self, owner: SocketIOTransport, sid: str, eio_sid: str, principal: Principal):
        self.owner = owner
        self.sid = sid
        self.eio_sid = eio_sid
        self.principal = principal
        self.floor: OffsetKey | None = None
        self.replay: asyncio.Task[None] | None = None
        self.cut = False
        self.sent = SentWindows()
        self.proto: direct.HeraldWebSocketProtocol | None = None
        self.on_engine_queue = False
        self.backlog: deque[Entry] = deque()
        self.flusher: asyncio.Task[None] | None = None
        self.slot = Slot(TRANSPORT, "unknown", principal.subject)

    def _socket(self) -> Any:
        return self.owner.sio.eio.sockets.get(self.eio_sid)

    def _queue(self) -> asyncio.Queue[Any] | None:
        sock = self._socket()
        if sock is None or sock.closed or sock.closing:
            return None
        queue: asyncio.Queue[Any] = sock.queue
        return queue

    def _queue_even_if_closing(self) -> asyncio.Queue[Any] | None:
        sock = self._socket()
        return None if sock is None else sock.queue

    def _direct(self) -> direct.HeraldWebSocketProtocol | None:
        """The connection to write to, or ``None`` while Engine.IO's queue carries events."""
        if self.proto is None and not self.on_engine_queue:
            sock = self._socket()
            if sock is not None and sock.upgraded and not sock.upgrading:
                self.proto = getattr(sock, PROTOCOL_ATTR, None)
        return self.proto

    def queue_depth(self) -> int:
        queue = self._queue()
        return len(self.backlog) + (queue.qsize() if queue is not None else 0)

    def offer_many(self, entries: Sequence[Entry], shared: dict[Any, Any]) -> None:
        self.slot.sent += len(entries)
        proto = self._direct()
        if (
            proto is not None
            and not self.backlog
            and direct.is_writable(proto)
            and direct.shares_frames(proto)
        ):
            self.sent.last = entries[-1].key
            direct.write_shared(
                proto, shared, FRAME_CACHE, lambda: (event_frame(e)[0] for e in entries)
            )
            return
        for entry in entries:
            if self.cut:
                return
            self.offer(entry)

    def offer(self, entry: Entry) -> None:
        """Live path: never waits; a client ``client_queue`` events behind is cut off."""
        if self._send(entry, self.owner.limit) == "full":
            self.owner.cut_off(self, "slow_consumer")

    async def put(self, entry: Entry) -> None:
        """Replay path: skip what this connection already got, wait for room, never cut."""
        if self.sent.was_sent(entry):
            return
        room = self.owner.limit // 2 + 1
        while (outcome := self._send(entry, room)) == "full":
            await asyncio.sleep(0.01)
        if outcome == "gone":
            raise ClientGone(self.sid)
        self.slot.sent += 1

    def _send(self, entry: Entry, room: int) -> Literal["sent", "full", "gone"]:
        """Write ``entry``, or queue it while fewer than ``room`` events wait, in order."""
        proto = self._direct()
        if proto is None:
            queue = self._queue()
            if queue is None:
                return "gone"
            if queue.qsize() >= room:
                return "full"
            self.on_engine_queue = True
            queue.put_nowait(event_packet(entry))
        elif not direct.is_open(proto):
            return "gone"
        elif not self.backlog and direct.is_writable(proto):
            direct.write(proto, *event_frame(entry))
        elif len(self.backlog) >= room:
            return "full"
        else:
            self.backlog.append(entry)
            if self.flusher is None:
                self.flusher = self.owner._spawn(self._flush(proto))
        self.sent.last = entry.key
        return "sent"

    async def _flush(self, proto: direct.HeraldWebSocketProtocol) -> None:
        """Write the backlog, in order, as the socket's buffer drains."""
        try:
            while self.backlog:
                await proto.writable.wait()
                if not direct.is_open(proto):
                    self.backlog.clear()
                    return
                while self.backlog and proto.writable.is_set():
                    direct.write(proto, *event_frame(self.backlog.popleft()))
        finally:
            self.flusher = None

    def discard_backlog(self) -> None:
        self.backlog.clear()
        if self.flusher is not None:
            self.flusher.cancel()

    def drop_backlog(self) -> None:
        """Discard the backlog and whatever waits in Engine.IO's queue."""
        self.discard_backlog()
        queue = self._queue()
        if queue is not None:
            while not queue.empty():
                queue.get_nowait()
                queue.task_done()


def _handshake_token(environ: Mapping[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return str(auth["token"])
    headers = {"authorization": str(environ.get("HTTP_AUTHORIZATION", ""))}
    query = dict(parse_qsl(str(environ.get("QUERY_STRING", ""))))
    return token_from_headers_and_query(headers, query)


class SocketIOTransport:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.redis = ctx.redis
        self.log_key = ctx.log_key
        self.hub = ctx.hub
        self.tail = ctx.tail
        self.auth = ctx.auth
        self.limiter = ctx.limiter
        self.limit = ctx.settings.client_queue
        self.clients: dict[str, SioClient] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.sio = socketio.AsyncServer(
            async_mode="asgi", cors_allowed_origins="*", transports=["polling", "websocket"]
        )
        eio: Any = self.sio.eio
        eio._async = {**eio._async, "websocket": _EngineWebSocket}
        sioguard.install(self.sio)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("subscribe", self._on_subscribe)
        self.sio.on("unsubscribe", self._on_unsubscribe)

    async def stop(self) -> None:
        for client in list(self.clients.values()):
            self._forget(client)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            principal = self.auth.authenticate(_handshake_token(environ, auth))
        except HeraldError as exc:
            raise socketio.exceptions.ConnectionRefusedError(
                exc.detail, {"error": exc.code, "detail": exc.detail}
            ) from exc
        # Compat mode delivers what is appended from now on: events already in the log
        # that the tail has not dispatched yet are not this client's (a subscribe with
        # ``since`` replays them in order instead).
        newest = await self.redis.xrevrange(self.log_key, "+", "-", count=1)
        floor = entries(newest)[0].key if newest else None
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
        sock = self.sio.eio.sockets.get(eio_sid)
        if sock is None or sock.closed:
            return  # gone while the log was read
        try:
            slot = self.ctx.connections.admit(
                TRANSPORT, client_address(environ.get("asgi.scope")), principal.subject
            )
        except Refused as exc:
            raise socketio.exceptions.ConnectionRefusedError(
                exc.detail, {"error": exc.code, "detail": exc.detail}
            ) from exc
        sock.poll = functools.partial(_bounded_poll, sock)
        client = SioClient(self, sid, eio_sid, principal)
        client.slot = slot
        slot.depth = client.queue_depth
        self.clients[sid] = client
        selector = compat_selector(principal)
        slot.subscribed("compat", selector)
        client.sent.open(max(self.tail.position, floor or (0, 0)), selector)
        self.hub.join(client, selector, floor=floor)
        metrics.CONNECTED_CLIENTS.labels(TRANSPORT).inc()

    def _forget(self, client: SioClient) -> None:
        if self.clients.pop(client.sid, None) is None:
            return
        self.ctx.connections.release(client.slot)
        self.hub.leave(client)
        if client.replay is not None:
            client.replay.cancel()
        client.discard_backlog()
        self.limiter.forget(client.sid)
        metrics.CONNECTED_CLIENTS.labels(TRANSPORT).dec()

    async def _on_disconnect(self, sid: str, reason: Any = None) -> None:
        client = self.clients.get(sid)
        if client is not None:
            self._forget(client)
            # Engine.IO leaves a pending long-poll hanging until its ping timeout, so a
            # polling client's disconnect would take half a minute: answer it now.
            queue = client._queue_even_if_closing()
            if queue is not None:
                queue.put_nowait(None)

    async def _on_subscribe(self, sid: str, data: Any = None) -> dict[str, Any]:
        client = self.clients.get(sid)
        if client is None:
            return {"error": "not_connected", "detail": "connect first"}
        if not self.limiter.allow(sid):
            retry = round(self.limiter.retry_after(sid), 3)
            return {
                "error": "rate_limited",
                "detail": "too many subscribe requests",
                "retryAfter": retry,
            }
        try:
            sub = parse_subscription(data, client.principal)
        except HeraldError as exc:
            client.slot.errors += 1
            return {"error": exc.code, "detail": exc.detail}
        if client.replay is not None:
            client.replay.cancel()
        self.hub.leave(client)
        resume = await plan_resume(self.redis, self.log_key, sub.since, self.tail)
        if sid not in self.clients:
            return {"error": "not_connected", "detail": "disconnected"}

        def go_live(last: str) -> None:
            if sid in self.clients and not client.cut:
                self.hub.join(client, sub.selector, floor=offset_key(last))

        client.slot.unsubscribed()
        client.slot.subscribed("subscribe", sub.selector)
        if resume.after is None and not resume.from_oldest:
            client.sent.open(self.tail.position, sub.selector)
            go_live(self.tail.offset)
        else:
            start = offset_key(resume.after) if resume.after is not None else (0, 0)
            client.sent.open(start, sub.selector)
            replay = catch_up(
                self.redis, self.log_key, resume, sub.selector, self.tail, client.put, go_live
            )
            client.replay = self._spawn(self._replay(client, replay))
        return {"recovered": resume.recovered, "offset": resume.offset}

    async def _replay(self, client: SioClient, replay: Coroutine[Any, Any, None]) -> None:
        try:
            await replay
        except ClientGone:
            pass
        except Exception:
            log.exception("replay for %s failed", client.sid)
            self.cut_off(client, "replay_failed")

    async def _on_unsubscribe(self, sid: str, data: Any = None) -> dict[str, Any]:
        client = self.clients.get(sid)
        if client is None:
            return {"error": "not_connected", "detail": "connect first"}
        if client.replay is not None:
            client.replay.cancel()
        self.hub.leave(client)
        client.slot.unsubscribed()
        client.sent.open(self.tail.position, None)
        return {"success": True, "offset": self.tail.offset}

    def cut_off(self, client: SioClient, reason: str) -> None:
        """Stop delivery now (synchronously) and disconnect the client in the background."""
        if client.cut:
            return
        client.cut = True
        self.hub.leave(client)
        if reason == "slow_consumer":
            metrics.SLOW_CLIENT_DISCONNECTS.labels(TRANSPORT).inc()
        self._spawn(self._disconnect(client, reason))

    async def _disconnect(self, client: SioClient, reason: str) -> None:
        # Drop the backlog: memory is freed now and the client resumes from its offset.
        client.drop_backlog()
        detail = (
            f"more than {self.limit} events behind; reconnect and resume from your offset"
            if reason == "slow_consumer"
            else "delivery failed; reconnect and resume from your offset"
        )
        notice = {"reason": reason, "detail": detail}
        proto = client._direct()
        direct_notice = False
        try:
            direct_notice = release.sio_notice(
                proto, client.on_engine_queue, DISCONNECT_EVENT, notice
            )
            if not direct_notice:
                await self.sio.emit(DISCONNECT_EVENT, notice, to=client.sid)
            await self.sio.disconnect(client.sid)
        except Exception:  # the client may already be gone
            log.debug("disconnecting %s failed", client.sid, exc_info=True)
        if direct_notice:  # written behind what the socket holds: let the socket go
            release.let_go(proto)
        self._forget(client)
