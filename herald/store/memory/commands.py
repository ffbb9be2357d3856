"""The in-process twin of :class:`~herald.store.commands.CommandStore` (same contract, no
Redis): one process's commands, budgets and pauses."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from typing import Any

from herald.store.commands import Claim, Stored


class MemoryCommandStore:
    def __init__(self, *, keep: int = 10_000) -> None:
        self._keep = keep
        self._commands: dict[str, Stored] = {}
        self._order: dict[str, int] = {}  # id -> requested at (ms)
        self._open: dict[str, int] = {}
        self._budgets: dict[str, dict[str, float]] = {}  # account -> command id -> sent (s)
        self._pauses: dict[str, tuple[dict[str, Any], float]] = {}

    async def claim(
        self, command_id: str, doc: Mapping[str, Any], now_ms: int, lease_until_ms: int
    ) -> Claim:
        known = self._commands.get(command_id)
        if known is not None:
            return Claim(False, copy.deepcopy(known.doc), known.state)
        self._commands[command_id] = Stored(copy.deepcopy(dict(doc)), "requested", lease_until_ms)
        self._order[command_id] = now_ms
        self._open[command_id] = now_ms
        while len(self._order) > self._keep:  # the list keeps the newest; get knows them all
            self._order.pop(min(self._order, key=lambda i: self._order[i]))
        return Claim(True)

    async def move(
        self,
        command_id: str,
        expected: Sequence[str],
        state: str,
        doc: Mapping[str, Any],
        *,
        lease_until_ms: int = 0,
    ) -> bool:
        known = self._commands.get(command_id)
        if known is None or known.state not in expected:
            return False
        self._commands[command_id] = Stored(copy.deepcopy(dict(doc)), state, lease_until_ms)
        return True

    async def close(self, command_id: str) -> None:
        self._open.pop(command_id, None)

    async def get(self, command_id: str) -> Stored | None:
        known = self._commands.get(command_id)
        return None if known is None else Stored(copy.deepcopy(known.doc), known.state, known.lease)

    async def recent(self, limit: int) -> list[Stored]:
        ids = sorted(self._order, key=lambda i: self._order[i], reverse=True)[: max(limit, 1)]
        return [s for s in [await self.get(i) for i in ids] if s is not None]

    async def open_ids(self, limit: int) -> list[str]:
        return sorted(self._open, key=lambda i: self._open[i])[: max(limit, 1)]

    async def reserve(
        self, account_id: str, command_id: str, windows: Sequence[tuple[float, int]]
    ) -> float:
        if not windows:
            return 0.0
        sent = self._budgets.setdefault(account_id, {})
        if command_id in sent:
            return 0.0
        now = time.time()
        longest = max(seconds for seconds, _ in windows)
        for old in [i for i, at in sent.items() if at <= now - longest]:
            sent.pop(old)
        wait = 0.0
        for seconds, limit in windows:
            inside = sorted(at for at in sent.values() if at > now - seconds)
            if len(inside) >= limit:
                wait = max(wait, inside[len(inside) - limit] + seconds - now)
        if wait > 0:
            return wait
        sent[command_id] = now
        return 0.0

    async def pause(self, account_id: str, reason: Mapping[str, Any], seconds: float) -> None:
        self._pauses[account_id] = (dict(reason), time.time() + seconds)

    async def paused(self, account_id: str) -> dict[str, Any] | None:
        found = self._pauses.get(account_id)
        if found is None:
            return None
        if found[1] <= time.time():
            self._pauses.pop(account_id, None)
            return None
        return dict(found[0])

    async def resume(self, account_id: str) -> bool:
        return self._pauses.pop(account_id, None) is not None
