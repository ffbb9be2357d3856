"""The in-process twin of :class:`herald.store.engagement.EngagementStore`."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from herald.store.engagement import Tracked, newer


def _order(object_id: str) -> tuple[int, str]:
    return (len(object_id), object_id)


class MemoryEngagementStore:
    """Records per stream, trimmed to the newest ``limit`` ids as the hash is."""

    def __init__(self, *, limit: int) -> None:
        self._limit = limit
        self._records: dict[str, dict[str, bytes]] = {}

    async def load(
        self, stream_id: str, ids: Collection[str], floor: int | None
    ) -> dict[str, Tracked]:
        records = self._records.get(stream_id, {})
        wanted = set(ids)
        if floor is not None:
            wanted.update(i for i in records if newer(i, floor))
        return {i: Tracked.decode(records[i]) for i in wanted if i in records}

    async def save(self, stream_id: str, put: Mapping[str, Tracked], drop: Collection[str]) -> None:
        records = self._records.setdefault(stream_id, {})
        records.update({i: record.encode() for i, record in put.items()})
        for object_id in drop:
            records.pop(object_id, None)
        excess = len(records) - self._limit
        if excess > 0:
            for object_id in sorted(records, key=_order)[:excess]:
                del records[object_id]
