"""herald's thin Jetstream client: the ``/subscribe`` URL, in-place filter updates with
``options_update``, and the check that a resumed connection starts where it should.

Jetstream replays from a cursor inclusively, so the first frame after a resume is the one
the cursor names. When it is newer, Jetstream no longer had the cursor (its retention is
hours, not forever) and started at its oldest frame: what came in between may be lost,
and the source reports a ``stream:gap`` instead of resuming silently.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson

from herald.push.base import Frame, PushStream
from herald.push.wsconn import WebSocketConnection, open_websocket
from herald.sources.base import Gap
from herald.sources.bsky.index import Subscription

MAX_URL = 8_000
"""Longer subscriptions are sent as a first ``options_update`` (``requireHello``)."""


def subscribe_url(base: str, subscription: Subscription, cursor: int | None) -> tuple[str, bool]:
    """The ``/subscribe`` URL (``http(s)`` read as ``ws(s)``, no path as ``/subscribe``);
    True when the filter must follow as a first message."""
    parts = urlsplit(base)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path if parts.path not in ("", "/") else "/subscribe"
    query = [("wantedCollections", c) for c in subscription.collections]
    query += [("wantedDids", d) for d in subscription.dids or ()]
    tail = [("cursor", str(cursor))] if cursor is not None else []
    url = urlunsplit((scheme, parts.netloc, path, urlencode(query + tail), ""))
    if len(url) <= MAX_URL:
        return url, False
    hello = [("requireHello", "true"), *tail]
    return urlunsplit((scheme, parts.netloc, path, urlencode(hello), "")), True


Planner = Callable[[Sequence[PushStream]], Awaitable[Subscription]]
"""Streams -> the subscription they need (resolving handles on the way)."""


class JetstreamConnection:
    """A :class:`~herald.push.base.PushConnection` over Jetstream's v1 wire."""

    def __init__(
        self,
        ws: WebSocketConnection,
        subscription: Subscription,
        resume_from: int | None,
        plan: Planner,
        on_gap: Callable[[Gap], None],
    ) -> None:
        self._ws = ws
        self.subscription = subscription
        self._resume_from = resume_from
        self._plan = plan
        self._on_gap = on_gap
        self.updates = 0

    @classmethod
    async def open(
        cls,
        base_url: str,
        subscription: Subscription,
        cursor: int | None,
        *,
        since: int | None = None,
        plan: Planner,
        on_gap: Callable[[Gap], None],
        max_frame_bytes: int,
        ping_interval: float | None,
    ) -> JetstreamConnection:
        """``cursor``: a saved position (its frame must come first, else a gap); ``since``:
        a fresh start's replay point (nothing to check: no frame sits exactly there)."""
        url, hello = subscribe_url(base_url, subscription, cursor if cursor is not None else since)
        ws = await open_websocket(url, max_frame_bytes=max_frame_bytes, ping_interval=ping_interval)
        if hello:
            await ws.send_json(subscription.options_update())
        return cls(ws, subscription, cursor, plan, on_gap)

    async def recv(self) -> Frame:
        frame = await self._ws.recv()
        if self._resume_from is not None:
            self._check_resume(frame)
        return frame

    def _check_resume(self, frame: Frame) -> None:
        try:
            time_us = orjson.loads(frame.data).get("time_us")
        except (orjson.JSONDecodeError, AttributeError):
            return  # not a frame: the next one tells
        if not isinstance(time_us, int):
            return
        cursor, self._resume_from = self._resume_from, None
        if cursor is not None and time_us > cursor:
            seconds = (time_us - cursor) / 1_000_000
            self._on_gap(
                Gap(
                    "cursor_too_old: Jetstream no longer kept the saved position and resumed "
                    f"{seconds:.3f} s after it; frames in between may be missed"
                )
            )

    async def update(self, streams: Sequence[PushStream]) -> bool:
        """The new filter goes out as ``options_update``: no reconnect, no replay."""
        await self.send_update(await self._plan(streams))
        return True

    async def send_update(self, subscription: Subscription) -> None:
        if subscription != self.subscription:
            await self._ws.send_json(subscription.options_update())
            self.subscription = subscription
            self.updates += 1

    async def aclose(self) -> None:
        await self._ws.aclose()
