"""In-process twins of the poll-state stores: seen ids, follower snapshots, cursors, locks
and heartbeats. Leases and heartbeats expire on a monotonic clock; the other records keep
no TTL (they end with the process)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from herald.store.heartbeats import beat_info
from herald.store.seen import NOTHING, Seen

Clock = Callable[[], float]


class MemorySeenStore:
    """Ids by order; trimmed to the newest ``limit`` as the zset is (ties by id)."""

    def __init__(self, *, limit: int) -> None:
        self._limit = limit
        self._seen: dict[str, dict[str, float]] = {}

    async def check(self, stream_id: str, ids: Sequence[str]) -> Seen:
        if not ids:
            return NOTHING
        seen = self._seen.get(stream_id, {})
        floor = min(seen.values()) if seen else None
        return Seen(frozenset(i for i in ids if i in seen), None if floor is None else int(floor))

    async def remember(self, stream_id: str, orders: Mapping[str, int]) -> None:
        if not orders:
            return
        seen = self._seen.setdefault(stream_id, {})
        seen.update({item: float(order) for item, order in orders.items()})
        if len(seen) > self._limit:
            newest = sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))[-self._limit :]
            self._seen[stream_id] = dict(newest)


class MemorySnapshotStore:
    def __init__(self) -> None:
        self._snapshots: dict[str, dict[str, str]] = {}

    async def load(self, stream_id: str) -> dict[str, str]:
        return dict(self._snapshots.get(stream_id, {}))

    async def apply(self, stream_id: str, add: Mapping[str, str], remove: Collection[str]) -> None:
        snapshot = self._snapshots.setdefault(stream_id, {})
        for follower in remove:
            snapshot.pop(follower, None)
        snapshot.update(add)


class MemoryCursorStore:
    def __init__(self) -> None:
        self._cursors: dict[str, dict[str, str]] = {}

    async def load(self, stream_id: str) -> dict[str, str]:
        return dict(self._cursors.get(stream_id, {}))

    async def save(self, stream_id: str, cursor: Mapping[str, str]) -> None:
        self._cursors[stream_id] = dict(cursor)


class _Expiring:
    """Values that vanish ``ttl`` seconds after they were set (a PX key)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._values: dict[str, tuple[object, float]] = {}

    def get(self, key: str) -> object | None:
        found = self._values.get(key)
        if found is None:
            return None
        if found[1] <= self._clock():
            del self._values[key]
            return None
        return found[0]

    def set(self, key: str, value: object, ttl: float) -> None:
        self._values[key] = (value, self._clock() + ttl)

    def delete(self, key: str) -> None:
        self._values.pop(key, None)

    def live(self) -> dict[str, object]:
        return {k: v for k in list(self._values) if (v := self.get(k)) is not None}


class MemoryLockStore:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._locks = _Expiring(clock)
        self._held = _Expiring(clock)  # worker id -> {stream id: token}

    async def take(
        self, stream_id: str, token: str, lease_ms: int, holder: str | None = None
    ) -> bool:
        if holder is not None:
            held = self._held.get(holder)
            tokens = dict(held) if isinstance(held, dict) else {}
            tokens[stream_id] = token
            self._held.set(holder, tokens, lease_ms / 1000)
        if self._locks.get(stream_id) is not None:
            return False
        self._locks.set(stream_id, token, lease_ms / 1000)
        return True

    async def release(self, stream_id: str, token: str) -> bool:
        if self._locks.get(stream_id) != token:
            return False
        self._locks.delete(stream_id)
        return True

    async def owner(self, stream_id: str) -> str | None:
        token = self._locks.get(stream_id)
        return token if isinstance(token, str) else None

    async def free_dead(self, worker_id: str, stream_id: str) -> bool:
        held = self._held.get(worker_id)
        token = held.get(stream_id) if isinstance(held, dict) else None
        return token is not None and await self.release(stream_id, token)

    async def lease(self, name: str, lease_ms: int) -> bool:
        return await self.take(f"lease:{name}", "1", lease_ms)


class MemoryHeartbeats:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._beats = _Expiring(clock)

    async def beat(self, worker_id: str, ttl: float) -> bool:
        previous = self._beats.get(worker_id)
        self._beats.set(worker_id, beat_info(), ttl)
        return previous is not None

    async def forget(self, worker_id: str) -> None:
        self._beats.delete(worker_id)

    async def alive(self, worker_ids: Iterable[str]) -> set[str]:
        return {w for w in worker_ids if self._beats.get(w) is not None}

    async def workers(self) -> dict[str, dict[str, object]]:
        return {w: dict(info) for w, info in self._beats.live().items() if isinstance(info, dict)}
