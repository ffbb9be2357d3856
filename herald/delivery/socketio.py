"""Socket.IO at ``/socket.io``: the seed's compat mode, subscriptions, and v4 recovery.

A client that never subscribes is in the compat group of its principal and receives every
event it may see, under the event name ``type``. ``subscribe`` moves it to the group of
its selector (after replaying from ``since``); ``unsubscribe`` leaves delivery altogether.

Every session has a recovery ``pid`` (:mod:`herald.delivery.recovery`): socket.io-client
reconnects with ``{pid, offset}`` and gets what it missed, once, in order, before anything
new. The handshake goes through the one subscribe flow (:mod:`herald.delivery.subscribe`),
so no event reaches a socket before its ``CONNECT`` packet.

Live delivery bypasses python-socketio's per-recipient emit: the Socket.IO packet
``42["type",{...}]`` is built once per event, framed once, and written straight to each
recipient's WebSocket (:mod:`herald.delivery.sioclient`); a client still long-polling gets
it through its Engine.IO queue. Past ``client_queue`` events of backlog the client is cut
off with a reason.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from urllib.parse import parse_qsl

import socketio

from herald import metrics
from herald.auth import token_from_headers_and_query
from herald.commands import entry
from herald.delivery import release, siocommands, sioguard, subscribe
from herald.delivery.connections import Refused, client_address
from herald.delivery.filters import room_names
from herald.delivery.hub import ClientGone
from herald.delivery.recovery import Session, Sessions, knows_recovery, open_session
from herald.delivery.replay import Resume
from herald.delivery.sioclient import TRANSPORT, EngineWebSocket, SioClient, bounded_poll
from herald.delivery.sioserver import HeraldSocketServer
from herald.delivery.subscription import Selector
from herald.delivery.transport import Context
from herald.errors import HeraldError

log = logging.getLogger(__name__)

#: Sent just before a server-side disconnect, so a client knows why and can resume.
DISCONNECT_EVENT = "herald:disconnect"


def _handshake_token(environ: Mapping[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return str(auth["token"])
    headers = {"authorization": str(environ.get("HTTP_AUTHORIZATION", ""))}
    query = dict(parse_qsl(str(environ.get("QUERY_STRING", ""))))
    return token_from_headers_and_query(headers, query)


class _Pending:
    """What the connect handler decided, carried out once the ``CONNECT`` is queued."""

    __slots__ = ("plan", "session")

    def __init__(self, session: Session, plan: subscribe.Plan) -> None:
        self.session, self.plan = session, plan


class SocketIOTransport:
    def __init__(self, ctx: Context, session_key: Callable[[str], str]) -> None:
        self.ctx = ctx
        self.hub = ctx.hub
        self.tail = ctx.tail
        self.limit = ctx.settings.client_queue
        self.sessions = Sessions(ctx.redis, session_key)
        self.clients: dict[str, SioClient] = {}
        self._pending: dict[str, _Pending] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.sio = HeraldSocketServer(
            after_connect=self._after_connect,
            async_mode="asgi",
            cors_allowed_origins="*",
            transports=["polling", "websocket"],
            # A client's packet may be as large as any other request body; a larger one is
            # refused before it is buffered (HTTP 413, or WebSocket close 1009).
            max_http_buffer_size=ctx.settings.max_body_bytes,
        )
        eio: Any = self.sio.eio
        websocket = type(
            "HeraldEngineWebSocket",
            (EngineWebSocket,),
            {"max_message": ctx.settings.max_body_bytes},
        )
        eio._async = {**eio._async, "websocket": websocket}
        sioguard.install(self.sio)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("subscribe", self._on_subscribe)
        self.sio.on("unsubscribe", self._on_unsubscribe)
        self.sio.on("join", self._on_join)
        self.sio.on("leave", self._on_leave)
        self.sio.on(siocommands.EVENT, self._on_command)

    async def stop(self) -> None:
        for client in list(self.clients.values()):
            self._forget(client)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _on_connect(
        self, sid: str, environ: dict[str, Any], auth: Any = None
    ) -> dict[str, Any]:
        """Authenticate and plan the session; delivery starts in :meth:`_after_connect`."""
        try:
            principal = self.ctx.auth.authenticate(_handshake_token(environ, auth))
        except HeraldError as exc:
            raise socketio.exceptions.ConnectionRefusedError(
                exc.detail, {"error": exc.code, "detail": exc.detail}
            ) from exc
        try:
            slot = self.ctx.connections.admit(
                TRANSPORT, client_address(environ.get("asgi.scope")), principal.subject
            )
        except Refused as exc:
            raise socketio.exceptions.ConnectionRefusedError(
                exc.detail, {"error": exc.code, "detail": exc.detail}
            ) from exc
        offsets = knows_recovery(environ, auth)
        try:
            session, plan, _ = await open_session(
                self.ctx, self.sessions, auth, principal, keep=offsets
            )
        except BaseException:
            self.ctx.connections.release(slot)
            raise
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
        sock = self.sio.eio.sockets.get(eio_sid)
        if sock is None or sock.closed:
            self.ctx.connections.release(slot)
            return {"pid": session.pid}  # gone while the session was read: nothing starts
        sock.poll = functools.partial(bounded_poll, sock)
        client = SioClient(self, sid, eio_sid, principal, offsets=offsets)
        client.slot = slot
        slot.depth = client.queue_depth
        client.pid = session.pid
        self.clients[sid] = client
        self._pending[sid] = _Pending(session, plan)
        metrics.CONNECTED_CLIENTS.labels(TRANSPORT).inc()
        return {"pid": session.pid}

    async def _after_connect(self, sid: str, namespace: str) -> None:
        pending = self._pending.pop(sid, None)
        client = self.clients.get(sid)
        if pending is None or client is None or not pending.session.active:
            return
        kind = "compat" if pending.session.sub is None else "subscribe"
        client.slot.subscribed(kind, pending.plan.selector)
        self._start(client, pending.plan, ack=lambda _resume: None)

    def _start(
        self, client: SioClient, plan: subscribe.Plan, ack: Callable[[Resume], None]
    ) -> None:
        replay = subscribe.begin(
            self.ctx,
            client,
            plan,
            ack=ack,
            active=lambda: self.clients.get(client.sid) is client and not client.cut,
            sent=client.sent,
            live=client.live_selector,
        )
        if replay is not None:
            client.replay = self.spawn(self._replay(client, replay))

    def _forget(self, client: SioClient) -> None:
        self._pending.pop(client.sid, None)
        if self.clients.pop(client.sid, None) is None:
            return
        self.ctx.connections.release(client.slot)
        self.hub.leave(client)
        if client.replay is not None:
            client.replay.cancel()
        client.discard_backlog()
        self.ctx.limiter.forget(client.sid)
        metrics.CONNECTED_CLIENTS.labels(TRANSPORT).dec()

    async def _on_disconnect(self, sid: str, reason: Any = None) -> None:
        client = self.clients.get(sid)
        if client is None:
            return
        self._forget(client)

    async def _on_subscribe(self, sid: str, data: Any = None) -> dict[str, Any]:
        client = self.clients.get(sid)
        if client is None:
            return {"error": "not_connected", "detail": "connect first"}
        try:
            plan = await subscribe.prepare(self.ctx, sid, data, client.principal)
        except HeraldError as exc:
            client.slot.errors += 1
            return subscribe.refusal(exc)
        if self.clients.get(sid) is not client:
            return {"error": "not_connected", "detail": "disconnected"}
        self._stop_delivery(client)
        client.slot.subscribed("subscribe", plan.selector)
        if plan.ranged is not None:  # a replay is not restored on a recovering reconnect
            self.spawn(self._remember(client, None, False))
        else:
            raw = {k: v for k, v in (data or {}).items() if k != "since"}
            self.spawn(self._remember(client, raw, True))
        acked: dict[str, Any] = {}

        def ack(resume: Resume) -> None:
            acked.update(recovered=resume.recovered, offset=resume.offset)

        self._start(client, plan, ack)
        return acked

    async def _on_unsubscribe(self, sid: str, data: Any = None) -> dict[str, Any]:
        client = self.clients.get(sid)
        if client is None:
            return {"error": "not_connected", "detail": "connect first"}
        self._stop_delivery(client)
        client.sent.open(self.tail.position, None)
        self.spawn(self._remember(client, None, False))
        return {"success": True, "offset": self.tail.offset}

    async def _on_command(self, sid: str, data: Any = None) -> Any:
        """An X write command, answered through the ack (:mod:`.siocommands`)."""
        client = self.clients.get(sid)
        if client is None:
            return {"error": "not_connected", "detail": "connect first"}
        key = entry.limit_key(client.principal, client.slot.address)
        answer = await siocommands.run(self.ctx, key, client.principal, data)
        if isinstance(answer, dict) and "error" in answer and "state" not in answer:
            client.slot.errors += 1
        return answer

    async def _on_join(self, sid: str, data: Any = None) -> dict[str, Any]:
        return self._rooms(sid, data, join=True)

    async def _on_leave(self, sid: str, data: Any = None) -> dict[str, Any]:
        return self._rooms(sid, data, join=False)

    def _rooms(self, sid: str, data: Any, *, join: bool) -> dict[str, Any]:
        """``join`` / ``leave`` ``{channels}``: a room per alert channel, as ``io.to(channel)``.

        The events routed to a joined channel reach the client from its next live batch,
        beside what its subscription selects (and alone after ``unsubscribe``)."""
        client = self.clients.get(sid)
        if client is None:
            return {"error": "not_connected", "detail": "connect first"}
        try:
            wanted = frozenset(room_names(data))
        except HeraldError as exc:
            client.slot.errors += 1
            return subscribe.refusal(exc)
        client.rooms = client.rooms | wanted if join else client.rooms - wanted
        if client.cut:
            return {"channels": sorted(client.rooms)}
        selector: Selector | None = None
        if self.hub.is_member(client) and client.selector is not None:
            selector = client.live_selector(client.selector)
            self.hub.join(client, selector, floor=client.floor)
        elif client.replay is None or client.replay.done():
            # Not subscribed (or unsubscribed): the rooms alone, within the token's streams.
            self.hub.leave(client)
            if client.rooms:
                alone = Selector(stream_ids=client.principal.streams, types=frozenset())
                selector = client.live_selector(alone)
                self.hub.join(client, selector)
        if selector is not None:
            # What is sent from here on is chosen by the new selector (a later replay
            # skips exactly what each part of the connection's life was sent).
            client.sent.open(max(self.tail.position, client.sent.last or (0, 0)), selector)
        return {"channels": sorted(client.rooms)}

    def _stop_delivery(self, client: SioClient) -> None:
        if client.replay is not None:
            client.replay.cancel()
        self.hub.leave(client)
        client.slot.unsubscribed()

    async def _remember(self, client: SioClient, sub: dict[str, Any] | None, active: bool) -> None:
        """Keep the session's subscription, for a recovering reconnect to restore it."""
        if client.pid is None:
            return
        session = await self.sessions.load(client.pid)
        if session is not None:
            session.sub, session.active = sub, active
            await self.sessions.save(session)

    async def _replay(self, client: SioClient, replay: Coroutine[Any, Any, None]) -> None:
        try:
            await replay
        except ClientGone:
            pass
        except Exception:
            log.exception("replay for %s failed", client.sid)
            self.cut_off(client, "replay_failed")

    def cut_off(self, client: SioClient, reason: str) -> None:
        """Stop delivery now (synchronously) and disconnect the client in the background."""
        if client.cut:
            return
        client.cut = True
        self.hub.leave(client)
        if reason == "slow_consumer":
            metrics.SLOW_CLIENT_DISCONNECTS.labels(TRANSPORT).inc()
        self.spawn(self._disconnect(client, reason))

    async def _disconnect(self, client: SioClient, reason: str) -> None:
        # Drop the backlog: memory is freed now and the client resumes from its offset.
        client.drop_backlog()
        detail = (
            f"more than {self.limit} events behind; reconnect and resume from your offset"
            if reason == "slow_consumer"
            else "the server is shutting down; reconnect and resume from your offset"
            if reason == "server_shutdown"
            else "delivery failed; reconnect and resume from your offset"
        )
        notice = {"reason": reason, "detail": detail}
        proto = client._direct()
        direct_notice = False
        try:
            # Direct only when nothing waits in Engine.IO's queue (``proto`` says so).
            direct_notice = release.sio_notice(proto, proto is None, DISCONNECT_EVENT, notice)
            if not direct_notice:
                await self.sio.emit(DISCONNECT_EVENT, notice, to=client.sid)
            await self.sio.disconnect(client.sid)
        except Exception:  # the client may already be gone
            log.debug("disconnecting %s failed", client.sid, exc_info=True)
        if direct_notice:  # written behind what the socket holds: let the socket go
            release.let_go(proto)
        self._forget(client)
