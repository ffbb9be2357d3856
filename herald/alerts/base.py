"""What every surface (REST, CLI, MCP, dashboard) asks of alerts, as JSON in and JSON out.

Rules have the ASTRA shape ``{id, type: sentiment|engagement|volume|keyword, condition:
above|below|equals|contains, threshold, channel, enabled}`` plus ``window``, ``for``,
``keepFiringFor``, ``minSamples``, ``resolveThreshold`` and ``scope`` ``{streams, platforms,
keywords}`` (durations in seconds). A rule as answered also carries its live ``status``:
``{state, value, since, lastEvaluatedAt, fingerprint?}`` where ``state`` is one of
:data:`STATES`. Bad input raises :class:`herald.errors.ValidationError` naming the field; an
unknown id raises :class:`herald.errors.NotFound`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

RULE_TYPES: tuple[str, ...] = ("sentiment", "engagement", "volume", "keyword")
CONDITIONS: tuple[str, ...] = ("above", "below", "equals", "contains")
STATES: tuple[str, ...] = (
    "normal",
    "pending",
    "firing",
    "recovering",
    "resolved",
    "nodata",
    "error",
)
"""Prometheus/Grafana's states: Normal -> Pending (``for``) -> Firing -> Recovering
(``keepFiringFor``) -> Resolved, plus NoData and Error (the source watermark stalled)."""


@runtime_checkable
class AlertsService(Protocol):
    async def list_rules(self) -> list[dict[str, Any]]:
        """Every rule with its ``status``, in creation order."""
        ...

    async def get_rule(self, rule_id: str) -> dict[str, Any]: ...

    async def create_rule(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and store; ``id`` is generated unless given (a given id that exists is
        a 409 ``rule_exists``)."""
        ...

    async def update_rule(self, rule_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A partial update (any rule field but ``id``); validated as a whole rule."""
        ...

    async def delete_rule(self, rule_id: str) -> None: ...

    async def list_silences(self) -> list[dict[str, Any]]:
        """Active and pending silences ``{id, matchers: [{name, value, isRegex}], startsAt,
        endsAt, comment, createdBy?}``; expired ones are dropped."""
        ...

    async def create_silence(self, body: Mapping[str, Any]) -> dict[str, Any]: ...

    async def delete_silence(self, silence_id: str) -> None: ...

    async def test_rule(
        self, rule: Mapping[str, Any] | str, start: str, end: str
    ) -> dict[str, Any]:
        """Evaluate a rule (a body, or a stored rule's id) against a replay of the log from
        ``start`` to ``end`` (offsets or ISO times) and say what it would have done:
        ``{ruleId, from, to, evaluated, transitions: [{state, previous, at, value,
        threshold, samples}]}``. Stores and emits nothing."""
        ...
