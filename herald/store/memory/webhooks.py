"""The in-process twin of :class:`~herald.store.webhooks.WebhookStore` (same contract, no
Redis). Its ``webhook:health`` events are kept in :attr:`MemoryWebhookStore.events`."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from herald.store.webhooks import HealthChange

_RETRY = ("retryOffset", "retryAttempts", "nextAt", "failingSince")


class MemoryWebhookStore:
    def __init__(
        self, *, attempts_kept: int = 100, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._kept = attempts_kept
        self._clock = clock
        self._version = 0
        self._endpoints: dict[str, bytes] = {}  # insertion order = creation order
        self._states: dict[str, dict[str, str]] = {}
        self._leases: dict[str, tuple[str, float]] = {}
        self._attempts: dict[str, list[bytes]] = {}
        self.events: list[bytes] = []
        self._event_ids: set[str] = set()

    async def version(self) -> int:
        return self._version

    async def endpoints(self) -> list[dict[str, Any]]:
        return [orjson.loads(raw) for raw in self._endpoints.values()]

    async def endpoint_raw(self, endpoint_id: str) -> bytes | None:
        return self._endpoints.get(endpoint_id)

    async def create(self, endpoint: Mapping[str, Any], offset: str) -> bool:
        eid = str(endpoint["id"])
        if eid in self._endpoints:
            return False
        self._version += 1
        self._endpoints[eid] = orjson.dumps(dict(endpoint))
        self._states[eid] = {"offset": offset, "health": "ok", "healthSeq": "0"}
        self._attempts[eid] = []
        return True

    async def replace(self, endpoint: Mapping[str, Any], *, reset: bool) -> bool:
        eid = str(endpoint["id"])
        if eid not in self._endpoints:
            return False
        self._endpoints[eid] = orjson.dumps(dict(endpoint))
        if reset:
            for name in _RETRY:
                self._states.setdefault(eid, {}).pop(name, None)
        self._version += 1
        return True

    async def delete(self, endpoint_id: str) -> bool:
        if self._endpoints.pop(endpoint_id, None) is None:
            return False
        self._states.pop(endpoint_id, None)
        self._leases.pop(endpoint_id, None)
        self._attempts.pop(endpoint_id, None)
        self._version += 1
        return True

    async def state(self, endpoint_id: str) -> dict[str, str]:
        return dict(self._states.get(endpoint_id, {}))

    def _holder(self, endpoint_id: str) -> str | None:
        held = self._leases.get(endpoint_id)
        if held is None or held[1] <= self._clock():
            return None
        return held[0]

    async def acquire(self, endpoint_id: str, owner: str, ttl_ms: int) -> bool:
        holder = self._holder(endpoint_id)
        if holder not in (None, owner):
            return False
        self._leases[endpoint_id] = (owner, self._clock() + ttl_ms / 1000)
        return True

    async def release(self, endpoint_id: str, owner: str) -> None:
        if self._holder(endpoint_id) == owner:
            del self._leases[endpoint_id]

    def _push(self, endpoint_id: str, attempt: bytes | None) -> None:
        if attempt:
            kept = self._attempts.setdefault(endpoint_id, [])
            kept.insert(0, attempt)
            del kept[self._kept :]

    async def commit(
        self, endpoint_id: str, owner: str, offset: str, attempt: bytes | None, delivered: bool
    ) -> bool:
        if self._holder(endpoint_id) != owner:
            return False
        state = self._states.setdefault(endpoint_id, {})
        state["offset"] = offset
        for name in _RETRY:
            state.pop(name, None)
        if delivered:
            state["delivered"] = str(int(state.get("delivered", "0")) + 1)
            state["lastSuccessAt"] = str(int(time.time() * 1000))
        self._push(endpoint_id, attempt)
        return True

    async def fail(
        self,
        endpoint_id: str,
        owner: str,
        offset: str,
        attempts: int,
        next_at_ms: int,
        attempt: bytes,
        error: str,
    ) -> bool:
        if self._holder(endpoint_id) != owner:
            return False
        state = self._states.setdefault(endpoint_id, {})
        state.update(
            retryOffset=offset, retryAttempts=str(attempts), nextAt=str(next_at_ms), lastError=error
        )
        state.setdefault("failingSince", str(int(time.time() * 1000)))
        state["failed"] = str(int(state.get("failed", "0")) + 1)
        self._push(endpoint_id, attempt)
        return True

    def _health(self, endpoint_id: str, change: HealthChange) -> str | None:
        state = self._states.setdefault(endpoint_id, {})
        if int(state.get("healthSeq", "0")) != change.expected_seq:
            return "stale"
        state["health"] = change.state
        state["healthSeq"] = str(change.expected_seq + 1)
        if change.event_id not in self._event_ids:
            self._event_ids.add(change.event_id)
            self.events.append(change.body)
        return None

    async def disable(
        self,
        endpoint_id: str,
        owner: str | None,
        expected: bytes,
        replacement: Mapping[str, Any],
        change: HealthChange,
        attempt: bytes | None,
    ) -> str:
        if owner and self._holder(endpoint_id) != owner:
            return "fenced"
        if self._endpoints.get(endpoint_id) != expected:
            return "changed"
        if self._health(endpoint_id, change) is not None:
            return "stale"
        self._endpoints[endpoint_id] = orjson.dumps(copy.deepcopy(dict(replacement)))
        self._version += 1
        self._push(endpoint_id, attempt)
        return "moved"

    async def health(self, endpoint_id: str, change: HealthChange) -> str:
        return self._health(endpoint_id, change) or "moved"

    async def skip(
        self, endpoint_id: str, expected: bytes, committed: str, offset: str, attempt: bytes
    ) -> str:
        if self._endpoints.get(endpoint_id) != expected:
            return "changed"
        state = self._states.setdefault(endpoint_id, {})
        if state.get("offset", "") != committed:
            return "moved"
        state["offset"] = offset
        for name in _RETRY:
            state.pop(name, None)
        state["skipped"] = str(int(state.get("skipped", "0")) + 1)
        self._push(endpoint_id, attempt)
        return "skipped"

    async def record(self, endpoint_id: str, attempt: bytes) -> None:
        self._push(endpoint_id, attempt)

    async def attempts(self, endpoint_id: str, limit: int) -> list[dict[str, Any]]:
        return [orjson.loads(a) for a in self._attempts.get(endpoint_id, [])[:limit]]
