"""The in-process twin of :class:`~herald.store.alerts.AlertStore` (same contract, no Redis)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


class MemoryAlertStore:
    def __init__(self) -> None:
        self._version = 0
        self._rules: dict[str, dict[str, Any]] = {}  # insertion order = creation order
        self._silences: dict[str, dict[str, Any]] = {}
        self._statuses: dict[str, dict[str, Any]] = {}

    async def version(self) -> int:
        return self._version

    async def rules(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(r) for r in self._rules.values()]

    async def rule(self, rule_id: str) -> dict[str, Any] | None:
        found = self._rules.get(rule_id)
        return copy.deepcopy(found) if found is not None else None

    async def create_rule(self, rule: Mapping[str, Any]) -> bool:
        if rule["id"] in self._rules:
            return False
        self._rules[str(rule["id"])] = copy.deepcopy(dict(rule))
        self._version += 1
        return True

    async def replace_rule(self, rule: Mapping[str, Any]) -> bool:
        if rule["id"] not in self._rules:
            return False
        self._rules[str(rule["id"])] = copy.deepcopy(dict(rule))
        self._version += 1
        return True

    async def delete_rule(self, rule_id: str) -> bool:
        if self._rules.pop(rule_id, None) is None:
            return False
        self._statuses.pop(rule_id, None)
        self._version += 1
        return True

    async def silences(self) -> list[dict[str, Any]]:
        found = [copy.deepcopy(s) for s in self._silences.values()]
        return sorted(found, key=lambda s: (float(s["startsAt"]), str(s["id"])))

    async def put_silence(self, silence: Mapping[str, Any]) -> None:
        self._silences[str(silence["id"])] = copy.deepcopy(dict(silence))
        self._version += 1

    async def delete_silence(self, silence_id: str) -> bool:
        if self._silences.pop(silence_id, None) is None:
            return False
        self._version += 1
        return True

    async def statuses(self) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self._statuses)

    async def set_statuses(self, statuses: Mapping[str, Mapping[str, Any]]) -> None:
        for name, status in statuses.items():
            if name in self._rules:
                self._statuses[name] = copy.deepcopy(dict(status))
