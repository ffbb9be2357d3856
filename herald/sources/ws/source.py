"""The ``ws:feed`` push source: one WebSocket connection per distinct URL and subscribe
messages, shared by every stream that asks for exactly that."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import orjson

from herald.errors import ValidationError
from herald.push.base import ConnectionPlan, Decoded, Frame, PushStream
from herald.push.wsconn import PushConnectionError, WebSocketConnection, open_websocket
from herald.sources.ws.decode import ConnectionState, decode_batch
from herald.sources.ws.spec import IDLE_WITHOUT_PINGS, FeedSpec, feed_spec

OPEN_TIMEOUT = 10.0
MAX_STATES = 10_000
"""Connections remembered; past it, the oldest are forgotten (their cursor reloads them)."""


class FeedConnection:
    """An open feed: the socket, and the application keepalive task when there is one."""

    def __init__(self, ws: WebSocketConnection, keepalive: asyncio.Task[None] | None) -> None:
        self.ws = ws
        self._keepalive = keepalive

    async def recv(self) -> Frame:
        return await self.ws.recv()

    async def update(self, streams: Sequence[PushStream]) -> bool:
        """Streams sharing a connection share its URL and messages: joining or leaving
        changes nothing on the wire."""
        return True

    async def aclose(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
        await self.ws.aclose()


class WsFeedSource:
    """Any WebSocket feed, generic (``subscribe`` + ``map``) or through a preset."""

    stream_types: tuple[str, ...] = ("ws:feed",)

    def __init__(self, open_timeout: float = OPEN_TIMEOUT) -> None:
        self.open_timeout = open_timeout
        self._states: dict[str, ConnectionState] = {}

    @staticmethod
    def spec(stream: PushStream) -> FeedSpec:
        try:
            return feed_spec(stream.target, stream.options)
        except ValidationError as exc:
            raise PushConnectionError("bad_options", exc.detail) from None

    def connection_key(self, stream: PushStream) -> str:
        """Never raises: a stream whose stored options no longer compile gets a key of its
        own, and its connect fails with ``bad_options`` on it alone."""
        try:
            return self.spec(stream).key
        except PushConnectionError:
            return f"ws:invalid:{stream.id}"

    def _specs(self, streams: Sequence[PushStream]) -> list[FeedSpec]:
        specs: list[FeedSpec] = []
        for stream in streams:
            with contextlib.suppress(PushConnectionError):
                specs.append(self.spec(stream))
        return specs

    def plan(self, key: str, streams: Sequence[PushStream]) -> ConnectionPlan:
        specs = self._specs(streams)
        lifetimes = [s.max_lifetime for s in specs if s.max_lifetime]
        pings = [s.ping for s in specs if s.ping]
        return ConnectionPlan(
            max_lifetime=min(lifetimes) if lifetimes else None,
            idle_timeout=max((s.idle for s in specs), default=IDLE_WITHOUT_PINGS),
            ping_interval=min(pings) if pings else None,
            max_frame_bytes=max((s.max_frame_bytes for s in specs), default=1 << 20),
        )

    def _state(self, key: str) -> ConnectionState:
        state = self._states.get(key)
        if state is None:
            if len(self._states) >= MAX_STATES:
                self._states.pop(next(iter(self._states)))
            state = self._states[key] = ConnectionState()
        return state

    async def connect(
        self, key: str, streams: Sequence[PushStream], cursor: str | None
    ) -> FeedConnection:
        """Open the URL, send the subscribe messages (paced under the upstream's message
        rate), start the application keepalive. A saved cursor or an earlier connection
        means this is a reconnect: what went by meanwhile is reported (module docstring
        of :mod:`herald.sources.ws.decode`)."""
        if not streams:
            raise PushConnectionError("bad_options", "no stream needs this connection")
        spec = self.spec(streams[0])
        plan = self.plan(key, streams)
        state = self._state(key)
        if cursor is not None or not state.fresh or state.cursor is not None:
            state.reconnected = True
        ws = await open_websocket(
            spec.url,
            max_frame_bytes=plan.max_frame_bytes,
            ping_interval=plan.ping_interval,
            open_timeout=self.open_timeout,
        )
        try:
            # one message a second below the upstream's limit: its pings and our pongs count
            rate = spec.messages_per_second
            pause = 1.0 / max(1.0, rate - 1) if rate else 0.0
            for i, message in enumerate(spec.subscribe):
                if i and pause:
                    await asyncio.sleep(pause)  # the upstream's message-rate rule
                await ws.send_text(_text(message))
        except BaseException:
            await ws.aclose()
            raise
        specs = self._specs(streams)
        keepalive = next((s.keepalive_message for s in specs if s.keepalive_message), None)
        task = None
        if keepalive is not None:
            every = min(s.keepalive_every for s in specs)
            task = asyncio.create_task(_keepalive(ws, _text(keepalive), every))
        return FeedConnection(ws, task)

    async def decode(
        self, key: str, frames: Sequence[Frame], streams: Sequence[PushStream], cursor: str | None
    ) -> Decoded:
        state = self._state(key)
        if cursor != state.cursor:
            state.load(cursor)
        return decode_batch(state, frames, streams)

    async def aclose(self) -> None:
        self._states.clear()


def _text(message: object) -> str:
    return message if isinstance(message, str) else orjson.dumps(message).decode()


async def _keepalive(ws: WebSocketConnection, text: str, every: float) -> None:
    """The application ping some feeds want instead of (or beside) WebSocket pings."""
    with contextlib.suppress(PushConnectionError):
        while True:
            await asyncio.sleep(every)  # the feed's keepalive period
            await ws.send_text(text)
