"""Watermarks of push streams: how far a connection has surely delivered, from its status.

A push stream never polls, so ``lastPoll`` says nothing about it. Its connection's owner
writes the connection's status every third of the lease TTL (:mod:`herald.push.runner`):
``connected``, ``buffered`` (frames read, not yet appended), ``lastMessage`` and ``lag``
(how far the last appended batch was behind the upstream's own time), and ``at`` (when it
wrote them). From that, per connection:

- connected, nothing buffered: every frame read before ``at`` is appended, so the mark is
  ``at`` (an idle connection moves its streams on, as a quiet but successful poll does);
- connected, frames buffered (herald is behind): the upstream time of the last appended
  batch, ``lastMessage - lag``;
- not connected (failing, in backoff, no owner), or a status with no ``at`` (an owner that
  does not write it): no mark, so the caller keeps the last good one: frozen, like a polled
  stream in backoff. A dead owner stops writing ``at``, which freezes it too.

A batch being decoded when the status is written is not counted in ``buffered``; the
watermark's skew (``HERALD_PIPELINE_SKEW``, 10 s by default) covers that batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from herald.push.base import PushSource, PushStream
from herald.sources.catalog import stream_types
from herald.store.push import PushStore
from herald.store.streams import MarkState, StreamStore


def connection_mark(status: Mapping[str, str]) -> float | None:
    """The mark of one connection from its status hash (module docstring)."""
    if status.get("connected") != "1" or not status.get("at"):
        return None
    try:
        at = float(status["at"])
        if int(status.get("buffered") or 0) == 0:
            return at
        last = status.get("lastMessage") or ""
        return float(last) - float(status.get("lag") or 0.0) if last else None
    except ValueError:
        return None


class PushMarks:
    """Marks of push streams, one status read per connection per refresh."""

    def __init__(
        self, store: PushStore, sources: Mapping[str, PushSource], streams: StreamStore
    ) -> None:
        self._store = store
        self._sources = sources
        """Stream type -> its push source (for the connection key of a stream)."""
        self._streams = streams
        self._keys: dict[str, str | None] = {}
        self._version: int | None = None

    def handles(self, stream_type: str) -> bool:
        spec = stream_types().find(stream_type)
        return spec is not None and spec.mode == "push"

    async def _key(self, sid: str) -> str | None:
        """The connection key of a stream (cached until a push lifecycle change: an update
        may move a stream to another connection)."""
        if sid in self._keys:
            return self._keys[sid]
        record = await self._streams.get(sid)
        source = self._sources.get(record.type) if record is not None else None
        key = None
        if record is not None and source is not None:
            stream = PushStream(record.id, record.type, record.username, record.options)
            key = source.connection_key(stream)
        self._keys[sid] = key
        return key

    async def marks(self, states: Sequence[MarkState]) -> dict[str, float | None]:
        version = await self._store.version()
        if version != self._version:
            self._keys.clear()
            self._version = version
        keys = {state.id: await self._key(state.id) for state in states}
        by_key: dict[str, float | None] = {}
        for key in {k for k in keys.values() if k is not None}:
            by_key[key] = connection_mark(await self._store.status(key))
        return {sid: by_key.get(key) if key else None for sid, key in keys.items()}
