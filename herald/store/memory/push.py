"""In-process twin of :class:`herald.store.push.PushStore`: the same contract, no Redis.

Its "log" is a list of ``(offset, stream id, body)``; stream statuses are whatever
:meth:`MemoryPushStore.set_stream_status` said (a stream never mentioned is active).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from herald.events import Event
from herald.store.memory.pollstate import Clock, _Expiring
from herald.store.push import BatchAppended


class MemoryPushStore:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._leases = _Expiring(clock)
        self._statuses = _Expiring(clock)
        self._cursors: dict[str, str] = {}
        self._event_ids: dict[str, set[str]] = {}
        self._stream_status: dict[str, str] = {}
        self._members: dict[str, float] = {}
        self._version = 0
        self._offsets = itertools.count(1)
        self.log: list[tuple[str, str, bytes]] = []

    def set_stream_status(self, stream_id: str, status: str) -> None:
        self._stream_status[stream_id] = status

    async def take(self, connection: str, token: str, ttl_ms: int) -> bool:
        if self._leases.get(connection) is not None:
            return False
        self._leases.set(connection, token, ttl_ms / 1000)
        return True

    async def renew(self, connection: str, token: str, ttl_ms: int) -> bool:
        if self._leases.get(connection) != token:
            return False
        self._leases.set(connection, token, ttl_ms / 1000)
        return True

    async def release(self, connection: str, token: str) -> bool:
        if self._leases.get(connection) != token:
            return False
        self._leases.delete(connection)
        return True

    async def owner(self, connection: str) -> str | None:
        token = self._leases.get(connection)
        return token if isinstance(token, str) else None

    async def cursor(self, connection: str) -> str | None:
        return self._cursors.get(connection)

    async def append(
        self,
        connection: str,
        token: str,
        batches: Mapping[str, Sequence[Event]],
        cursor: str | None,
    ) -> BatchAppended | None:
        if self._leases.get(connection) != token:
            return None
        out = BatchAppended()
        for stream_id, events in batches.items():
            if self._stream_status.get(stream_id, "active") != "active":
                out.skipped.append(stream_id)
                continue
            seen = self._event_ids.setdefault(stream_id, set())
            for event in events:
                if event.event_id in seen:
                    continue
                seen.add(event.event_id)
                offset = f"{next(self._offsets)}-0"
                self.log.append((offset, stream_id, event.encode()))
                out.appended.append((event.event_id, offset))
        if cursor:
            self._cursors[connection] = cursor
        return out

    async def set_status(self, connection: str, values: Mapping[str, Any], ttl_ms: int) -> None:
        current = self._statuses.get(connection)
        merged = dict(current) if isinstance(current, dict) else {}
        merged.update({k: "" if v is None else str(v) for k, v in values.items()})
        self._statuses.set(connection, merged, ttl_ms / 1000)

    async def status(self, connection: str) -> dict[str, str]:
        current = self._statuses.get(connection)
        return dict(current) if isinstance(current, dict) else {}

    async def join(self, stream_id: str, since: float) -> None:
        self._members[stream_id] = since
        self._version += 1

    async def leave(self, stream_id: str) -> None:
        self._members.pop(stream_id, None)
        self._version += 1

    async def bump(self) -> int:
        self._version += 1
        return self._version

    async def version(self) -> int:
        return self._version

    async def members(self) -> dict[str, float]:
        return dict(self._members)

    async def touch(self, stream_ids: Iterable[str]) -> None:
        return None
