"""What the stream lifecycle asks of the push side, from any process (API or worker).

Creating, pausing, resuming, updating or stopping a push stream changes the push index
and bumps its version, which every process's runtime notices at its next check; the status
of a push stream shows its connection as its owner last wrote it.
"""

from __future__ import annotations

import time
from typing import Any

from herald.push.base import PushSource, PushStream
from herald.sources.catalog import stream_types
from herald.store.push import PushStore
from herald.store.streams import StreamRecord, iso


def is_push(stream_type: str) -> bool:
    spec = stream_types().find(stream_type)
    return spec is not None and spec.mode == "push"


class PushControl:
    def __init__(self, store: PushStore, sources: dict[str, PushSource]) -> None:
        self._store = store
        self._sources = sources
        """Stream type -> its push source, for the connection key of a stream's status."""

    async def joined(self, stream_id: str, since: float | None = None) -> None:
        """A push stream was created or resumed: it receives what arrives from ``since``
        (now) on; a resumed stream gets nothing of its paused time."""
        await self._store.join(stream_id, since if since is not None else time.time())

    async def left(self, stream_id: str) -> None:
        await self._store.leave(stream_id)

    async def changed(self) -> None:
        await self._store.bump()

    def connection_key(self, record: StreamRecord) -> str | None:
        source = self._sources.get(record.type)
        if source is None:
            return None
        stream = PushStream(
            id=record.id,
            type=record.type,
            target=record.username,
            options=record.options,
            created_at=record.created_at,
        )
        return source.connection_key(stream)

    async def connection(self, record: StreamRecord) -> dict[str, Any] | None:
        """``{key, connected, owner, lagSeconds, eventsPerSecond, lastMessageAt,
        reconnects, buffered, lastError}``; None if no process here serves the type."""
        key = self.connection_key(record)
        if key is None:
            return None
        status = await self._store.status(key)
        token = await self._store.owner(key)
        owner = token.rsplit(".", 1)[0] if token else None
        last = status.get("lastMessage") or ""
        return {
            "key": key,
            "connected": bool(token) and status.get("connected") == "1",
            "owner": owner,
            "lagSeconds": float(status.get("lag") or 0.0),
            "eventsPerSecond": float(status.get("eventsPerSecond") or 0.0),
            "lastMessageAt": iso(float(last)) if last else None,
            "reconnects": int(status.get("reconnects") or 0),
            "buffered": int(status.get("buffered") or 0),
            "lastError": status.get("lastError") or None,
        }
