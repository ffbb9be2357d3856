"""One connected Socket.IO client as a hub sink, and the wire form of an event for it.

Once the client is on a WebSocket, events are written straight to its socket (see
:mod:`herald.delivery.direct`), or to :attr:`SioClient.backlog` while the socket's buffer is
full; the backlog is written highest priority first (:mod:`herald.delivery.backlog`), an
event that overtakes an older one marked and without its recovery offset. Anything still in
Engine.IO's queue goes first: the direct path opens only once
Engine.IO's writer has sent everything queued (the ``CONNECT`` packet among it) and waits
for more — until then, events go through that queue too, in order.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import engineio.exceptions
import engineio.packet
import orjson
from engineio.async_drivers.asgi import WebSocket as EngineAsgiWebSocket

from herald.auth import Principal
from herald.delivery import direct, sioguard
from herald.delivery.backlog import Backlog, entry_priority, overtaking_text
from herald.delivery.connections import Slot
from herald.delivery.entry import Entry, OffsetKey, format_offset
from herald.delivery.hub import ClientGone
from herald.delivery.sent import SentWindows
from herald.delivery.subscription import Selector

if TYPE_CHECKING:
    from herald.delivery.socketio import SocketIOTransport

TRANSPORT = "socketio"
#: Where :class:`EngineWebSocket` leaves the uvicorn connection on the Engine.IO socket.
PROTOCOL_ATTR = "herald_websocket"
#: Set on the Engine.IO socket while its WebSocket writer waits on an empty queue, having
#: written everything it took (see :func:`bounded_poll`).
IDLE_ATTR = "herald_idle"
#: python-engineio clients refuse a long-polling payload of more packets than this.
MAX_PACKETS_PER_POLL = 16
#: Cache keys of an event's packet and frame, without and with the recovery offset.
_PACKET = {False: "socketio", True: "socketio+offset"}
FRAME_CACHE = {False: "socketio.frame", True: "socketio.frame+offset"}


def event_packet(entry: Entry, with_offset: bool = False) -> engineio.packet.Packet:
    """The Engine.IO packet carrying ``42["type",body]`` (``,"offset"`` appended for a
    client that recovers), built once per event."""
    pkt = entry.cache.get(_PACKET[with_offset])
    if pkt is None:
        name = entry.type.replace("\\", "\\\\").replace('"', '\\"')
        tail = ',"' + entry.offset + '"]' if with_offset else "]"
        pkt = engineio.packet.Packet(
            engineio.packet.MESSAGE, data='2["' + name + '",' + entry.text + tail
        )
        pkt.encode()  # fills the shared encode cache once
        entry.cache[_PACKET[with_offset]] = pkt
    return pkt


def control_entry(name: str, payload: dict[str, Any], key: OffsetKey) -> Entry:
    """A control event (``replay:done``) that travels the events' path, so it stays in
    order with them; its packet never carries an offset."""
    data = orjson.dumps([name, payload])
    text = data.decode()
    entry = Entry(format_offset(key), key, name, "", data, text)
    entry.cache["control"] = True  # a barrier in a backlog: no event overtakes it
    pkt = engineio.packet.Packet(engineio.packet.MESSAGE, data="2" + text)
    pkt.encode()
    frame_data = str(pkt.encode()).encode()
    frame = (direct.text_frame(frame_data), frame_data)
    for with_offset in (False, True):
        entry.cache[_PACKET[with_offset]] = pkt
        entry.cache[FRAME_CACHE[with_offset]] = frame
    return entry


def event_frame(entry: Entry, with_offset: bool = False) -> tuple[bytes, bytes]:
    """The WebSocket frame of :func:`event_packet` (and its payload), built once per event."""
    key = FRAME_CACHE[with_offset]
    cached: tuple[bytes, bytes] | None = entry.cache.get(key)
    if cached is None:
        data = str(event_packet(entry, with_offset).encode()).encode()
        cached = entry.cache[key] = (direct.text_frame(data), data)
    return cached


def overtaking_frame(entry: Entry) -> tuple[bytes, bytes]:
    """The frame of an event sent ahead of an older one: its body marked, and no recovery
    offset, so socket.io-client keeps its last offset a safe resume point."""
    name = entry.type.replace("\\", "\\\\").replace('"', '\\"')
    pkt = engineio.packet.Packet(
        engineio.packet.MESSAGE, data='2["' + name + '",' + overtaking_text(entry) + "]"
    )
    data = str(pkt.encode()).encode()
    return direct.text_frame(data), data


async def bounded_poll(sock: Any) -> list[Any]:
    """Engine.IO's ``AsyncSocket.poll``, taking at most :data:`MAX_PACKETS_PER_POLL` packets.

    A long-polling response carries every queued packet in one payload, and python-engineio
    clients refuse a payload of more than 16 packets (and drop the connection). A burst of
    events must reach them over several polls instead.

    Called by the WebSocket writer (the socket is upgraded: a long-poll GET then gets a
    ``NOOP`` without polling), it waits on the queue only after writing all it took before,
    and :data:`IDLE_ATTR` says so to the direct path. The flag is cleared in the very step
    that takes a packet: ``asyncio.wait_for`` would take it in a task of its own and wake
    this one turns later, and in between a direct write could overtake the taken packet.
    """
    setattr(sock, IDLE_ATTR, bool(sock.upgraded))
    try:
        async with asyncio.timeout(sock.server.ping_interval + sock.server.ping_timeout):
            try:
                first = await sock.queue.get()
            finally:
                setattr(sock, IDLE_ATTR, False)
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


class EngineWebSocket(EngineAsgiWebSocket):  # type: ignore[misc]
    """Engine.IO's ASGI WebSocket, which also tells its socket the uvicorn connection."""

    #: Largest message accepted from a client (set by the transport from the settings).
    max_message: int | None = None

    async def __call__(self, environ: dict[str, Any]) -> Any:
        sock = getattr(self.handler, "__self__", None)
        proto = direct.protocol_of(environ.get("asgi.scope"))
        if proto is not None and self.max_message is not None:
            # Refuse an oversized frame from its header (close 1009, with the reason),
            # before a byte of it is buffered.
            proto.conn.max_message_size = self.max_message
        if sock is not None and proto is not None:
            setattr(sock, PROTOCOL_ATTR, proto)
        return await super().__call__(environ)

    async def wait(self) -> Any:
        return sioguard.check_frame(await super().wait())


class SioClient:
    """One connected Socket.IO client (its main namespace) as a hub sink."""

    transport = TRANSPORT

    def __init__(
        self,
        owner: SocketIOTransport,
        sid: str,
        eio_sid: str,
        principal: Principal,
        *,
        offsets: bool = False,
    ) -> None:
        self.owner = owner
        self.sid = sid
        self.eio_sid = eio_sid
        self.principal = principal
        #: Whether event packets carry the offset as their last argument (recovery).
        self.offsets = offsets
        self.pid: str | None = None
        self.floor: OffsetKey | None = None
        self.replay: asyncio.Task[None] | None = None
        self.cut = False
        self.sent = SentWindows()
        self.proto: direct.HeraldWebSocketProtocol | None = None
        self.backlog: Backlog[Entry] = Backlog()
        self.flusher: asyncio.Task[None] | None = None
        self.slot = Slot(TRANSPORT, "unknown", principal.subject)
        #: The channels joined (``join``), and the selector they are added to.
        self.rooms: frozenset[str] = frozenset()
        self.selector: Selector | None = None

    def live_selector(self, selector: Selector) -> Selector:
        """``selector`` as live delivery uses it: with the client's rooms (remembered as the
        selector the rooms are added to when the rooms change)."""
        self.selector = selector
        return dataclasses.replace(selector, rooms=self.rooms or None)

    def _socket(self) -> Any:
        return self.owner.sio.eio.sockets.get(self.eio_sid)

    def _queue(self) -> asyncio.Queue[Any] | None:
        sock = self._socket()
        if sock is None or sock.closed or sock.closing:
            return None
        queue: asyncio.Queue[Any] = sock.queue
        return queue

    def engine_queue(self) -> asyncio.Queue[Any] | None:
        """Engine.IO's queue, also while the socket is closing (``None`` once it is gone)."""
        sock = self._socket()
        return None if sock is None else sock.queue

    def _direct(self) -> direct.HeraldWebSocketProtocol | None:
        """The connection to write to, or ``None`` while Engine.IO's queue carries events.

        The switch happens once, when the socket is on a WebSocket and Engine.IO's writer
        has sent everything it was given: nothing written directly can overtake it.
        """
        if self.proto is None:
            sock = self._socket()
            if (
                sock is not None
                and sock.upgraded
                and not sock.upgrading
                and getattr(sock, IDLE_ATTR, False)
                and sock.queue.empty()
            ):
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
            with_offset = self.offsets
            direct.write_shared(
                proto,
                shared,
                FRAME_CACHE[with_offset],
                lambda: (event_frame(e, with_offset)[0] for e in entries),
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

    async def notice(self, name: str, payload: dict[str, Any]) -> None:
        entry = control_entry(name, payload, self.sent.last or (0, 0))
        room = self.owner.limit // 2 + 1
        while (outcome := self._send(entry, room)) == "full":
            await asyncio.sleep(0.01)
        if outcome == "gone":
            raise ClientGone(self.sid)

    def _send(self, entry: Entry, room: int) -> Literal["sent", "full", "gone"]:
        """Write ``entry``, or queue it while fewer than ``room`` events wait, in order."""
        proto = self._direct()
        if proto is None:
            queue = self._queue()
            if queue is None:
                return "gone"
            if queue.qsize() >= room:
                return "full"
            queue.put_nowait(event_packet(entry, self.offsets))
        elif not direct.is_open(proto):
            return "gone"
        elif not self.backlog and direct.is_writable(proto):
            direct.write(proto, *event_frame(entry, self.offsets))
        elif len(self.backlog) >= room:
            return "full"
        else:
            priority = None if entry.cache.get("control") else entry_priority(entry)
            self.backlog.append(entry, priority)
            if self.flusher is None:
                self.flusher = self.owner.spawn(self._flush(proto))
        self.sent.last = entry.key
        return "sent"

    async def _flush(self, proto: direct.HeraldWebSocketProtocol) -> None:
        """Write the backlog, highest priority first, as the socket's buffer drains."""
        try:
            while self.backlog:
                await proto.writable.wait()
                if not direct.is_open(proto):
                    self.backlog.clear()
                    return
                while self.backlog and proto.writable.is_set():
                    entry, overtook = self.backlog.pop()
                    frame = (
                        overtaking_frame(entry) if overtook else event_frame(entry, self.offsets)
                    )
                    direct.write(proto, *frame)
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
