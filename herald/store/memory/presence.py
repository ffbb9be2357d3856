"""The in-process twin of :class:`herald.store.presence.RedisPresence`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from herald.store.presence import Counts


class MemoryPresence:
    """Node -> (counts, lapse time) in a dict; lapsed nodes are dropped on every call."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._nodes: dict[str, tuple[Counts, float]] = {}

    def _live(self) -> dict[str, Counts]:
        now = self._clock()
        for node in [n for n, (_, until) in self._nodes.items() if until <= now]:
            del self._nodes[node]
        return {node: dict(counts) for node, (counts, _) in self._nodes.items()}

    async def report(self, node: str, counts: Mapping[str, int], lease: float) -> dict[str, Counts]:
        if not node:
            raise ValueError("a presence report needs a node id")
        clean = {str(k): int(v) for k, v in counts.items() if int(v) >= 0}
        self._nodes[node] = (clean, self._clock() + lease)
        return self._live()

    async def nodes(self) -> dict[str, Counts]:
        return self._live()

    async def forget(self, node: str) -> None:
        self._nodes.pop(node, None)
