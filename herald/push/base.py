"""The push-source contract: what the push runtime asks of a platform that pushes.

A poll source is asked "what is new since last time?" on a schedule. A push source holds a
long-lived upstream connection (Jetstream, a ``ws:feed`` URL) that delivers frames as they
happen. The runtime (:mod:`herald.push.runtime`) owns everything that must be the same for
every push platform: which worker holds which connection (a lease in Redis), reconnects
with backoff, rotation, backpressure, the cursor saved in the same script as the events it
produced, status and errors. A :class:`PushSource` only says:

- which streams share a connection (:meth:`PushSource.connection_key`),
- how to open that connection from a saved cursor (:meth:`PushSource.connect`),
- how frames become changes for the connection's streams (:meth:`PushSource.decode`).

It has no Redis inside except what it is handed at build time for its own store-owned
state (a handle cache, Bluesky's follow map), and it raises
:class:`herald.errors.SourceError` subclasses for failures, like a poll source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from herald.events import EventType
from herald.sources.base import Gap, Notice


@dataclass(frozen=True, slots=True)
class PushStream:
    """What a push source knows of one active stream on its connection."""

    id: str
    type: str
    """The canonical type name (``bsky:post``, ``ws:feed``)."""
    target: str
    """The normalised target (a DID or handle, a WebSocket URL)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    """Epoch seconds the stream was started: items older than this are not new to it
    (a connection resumed from an older cursor must not flood a stream started since)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One upstream message as received, before any parsing."""

    data: bytes | str
    received: float
    """``time.time()`` when the runtime read it off the socket."""


@dataclass(frozen=True, slots=True)
class PushChange:
    """One change for one stream: becomes one event (``{kind}:{object_id}@{stream_id}``).

    ``object_id`` must be stable across a replay of the same frame (a record's URI or
    ``did/rkey``, an exchange trade id) so a resumed connection appends nothing twice.
    ``payload`` is the body's event-specific part, e.g. ``{"post": {...}}``.
    """

    stream_id: str
    type: EventType
    object_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FrameError:
    """A frame the source could not use (not JSON, too large, an unexpected shape).

    The runtime reports it as ``stream:error`` on the affected streams (all of the
    connection's streams when ``stream_id`` is None), counted but never fatal by itself.
    """

    kind: str
    message: str
    stream_id: str | None = None


@dataclass(slots=True)
class Decoded:
    """What a batch of frames produced. Saved atomically: the events of ``changes``,
    ``gaps`` and ``notices`` are appended in the same script that stores ``cursor``."""

    changes: list[PushChange] = field(default_factory=list)
    cursor: str | None = None
    """The upstream position after these frames (Jetstream ``time_us``, a sequence
    number); None: unchanged. A resume passes it back to :meth:`PushSource.connect`."""
    gaps: list[tuple[str | None, Gap]] = field(default_factory=list)
    """``(stream_id or None for every stream of the connection, gap)``: a cursor older
    than the upstream keeps, a sequence jump. Never a silent resume."""
    notices: list[tuple[str | None, Notice]] = field(default_factory=list)
    errors: list[FrameError] = field(default_factory=list)
    upstream_time: float | None = None
    """Epoch seconds of the newest upstream timestamp in the batch, for the lag."""


@dataclass(frozen=True, slots=True)
class ConnectionPlan:
    """How the runtime should treat one connection (per upstream rules)."""

    max_lifetime: float | None = None
    """Rotate (reconnect from the cursor) before the upstream's cap, e.g. Binance's 24 h."""
    idle_timeout: float = 60.0
    """No frame for this long: the connection is taken for dead and reopened."""
    ping_interval: float | None = 20.0
    """WebSocket pings (None: the upstream forbids or does not need them)."""
    max_frame_bytes: int = 1 << 20
    """Frames over this size are refused with a ``too_large`` frame error."""


@runtime_checkable
class PushConnection(Protocol):
    """One open upstream connection."""

    async def recv(self) -> Frame:
        """The next frame; raises :class:`herald.errors.SourceError` when the connection
        ends or fails (the runtime reconnects with backoff)."""
        ...

    async def update(self, streams: Sequence[PushStream]) -> bool:
        """The connection's set of streams changed: apply it in place (Jetstream's
        ``options_update``, an exchange's ``subscribe``) and return True, or return False
        for the runtime to reconnect from the cursor with the new set."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class PushSource(Protocol):
    """A platform adapter for push stream types (``StreamType.mode == "push"``)."""

    stream_types: tuple[str, ...]

    def connection_key(self, stream: PushStream) -> str:
        """Streams with the same key share one upstream connection (all ``bsky:*`` streams
        share the Jetstream connection; ``ws:feed`` streams share one per URL and
        subscription). Short and printable: it names store keys and status."""
        ...

    def plan(self, key: str, streams: Sequence[PushStream]) -> ConnectionPlan: ...

    async def connect(
        self, key: str, streams: Sequence[PushStream], cursor: str | None
    ) -> PushConnection:
        """Open the connection for ``streams``, resuming from ``cursor`` where the upstream
        can (None: from now). Raises SourceError subclasses (unreachable, TLS, refused)."""
        ...

    async def decode(
        self, key: str, frames: Sequence[Frame], streams: Sequence[PushStream], cursor: str | None
    ) -> Decoded:
        """Turn a batch of frames into changes for ``streams``. ``cursor`` is the position
        saved before this batch: a frame it already covers (Jetstream replays inclusively)
        yields nothing. Pure apart from the source's own store-owned state."""
        ...

    async def aclose(self) -> None: ...
