"""A FAKE alerts service: the :class:`AlertsService` Protocol in a dict, for surface tests.

It validates a little (enough to refuse with the field named, like the real service), keeps
rules and silences in memory, and answers ``test_rule`` with canned transitions. It knows
nothing of the log or of states; the end-to-end tests use the real service.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from herald.alerts.base import CONDITIONS, RULE_TYPES
from herald.errors import HeraldError, NotFound, ValidationError


class RuleExists(HeraldError):
    code = "rule_exists"
    status = 409


DEFAULTS: dict[str, Any] = {
    "channel": "alerts",
    "enabled": True,
    "window": 300,
    "for": 0,
    "keepFiringFor": 0,
    "minSamples": 1,
    "resolveThreshold": None,
    "scope": {"streams": [], "platforms": [], "keywords": []},
}


class FakeAlerts:
    def __init__(self) -> None:
        self.rules: dict[str, dict[str, Any]] = {}
        self.silences: dict[str, dict[str, Any]] = {}
        self.tested: list[tuple[Any, str, str]] = []
        self._ids = itertools.count(1)

    def _check(self, rule: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(rule) - {*DEFAULTS, "id", "type", "condition", "threshold"})
        if unknown:
            raise ValidationError(f"{unknown[0]}: unknown field")
        if rule.get("type") not in RULE_TYPES:
            raise ValidationError(f"type: must be one of {', '.join(RULE_TYPES)}")
        if rule.get("condition") not in CONDITIONS:
            raise ValidationError(f"condition: must be one of {', '.join(CONDITIONS)}")
        threshold = rule.get("threshold")
        if rule["type"] == "keyword":
            if not isinstance(threshold, str):
                raise ValidationError("threshold: a keyword rule needs text")
        elif not isinstance(threshold, int | float) or isinstance(threshold, bool):
            raise ValidationError(f"threshold: a {rule['type']} rule needs a number")
        window = rule.get("window")
        if not isinstance(window, int | float) or window <= 0:
            raise ValidationError("window: must be a number of seconds above 0")
        return rule

    async def list_rules(self) -> list[dict[str, Any]]:
        return [self._answer(r) for r in self.rules.values()]

    async def get_rule(self, rule_id: str) -> dict[str, Any]:
        if rule_id not in self.rules:
            raise NotFound(f"no alert rule with id {rule_id!r}")
        return self._answer(self.rules[rule_id])

    async def create_rule(self, body: Mapping[str, Any]) -> dict[str, Any]:
        rule = {**DEFAULTS, **{k: v for k, v in body.items() if v is not None}}
        rule_id = str(rule.get("id") or f"rule-{next(self._ids)}")
        if rule_id in self.rules:
            raise RuleExists(f"id: a rule with id {rule_id!r} exists")
        rule["id"] = rule_id
        self.rules[rule_id] = self._check(rule)
        return self._answer(rule)

    async def update_rule(self, rule_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        current = await self.get_rule(rule_id)
        current.pop("status")
        changes = {k: DEFAULTS.get(k) if v is None else v for k, v in body.items()}
        self.rules[rule_id] = self._check({**current, **changes, "id": rule_id})
        return self._answer(self.rules[rule_id])

    async def delete_rule(self, rule_id: str) -> None:
        await self.get_rule(rule_id)
        del self.rules[rule_id]

    async def list_silences(self) -> list[dict[str, Any]]:
        return list(self.silences.values())

    async def create_silence(self, body: Mapping[str, Any]) -> dict[str, Any]:
        matchers = body.get("matchers")
        if not isinstance(matchers, list) or not matchers:
            raise ValidationError("matchers: at least one {name, value} is needed")
        unknown = sorted(set(body) - {"matchers", "startsAt", "endsAt", "comment", "createdBy"})
        if unknown:
            raise ValidationError(f"{unknown[0]}: unknown field")
        if not isinstance(body.get("endsAt"), str):
            raise ValidationError("endsAt: required, an ISO 8601 time")
        silence_id = f"silence-{next(self._ids)}"
        silence = {
            "id": silence_id,
            "startsAt": "2026-01-01T00:00:00+00:00",
            "comment": "",
            **body,
            "matchers": [{"isRegex": False, **m} for m in matchers],
        }
        self.silences[silence_id] = silence
        return silence

    async def delete_silence(self, silence_id: str) -> None:
        if self.silences.pop(silence_id, None) is None:
            raise NotFound(f"no silence with id {silence_id!r}")

    async def test_rule(
        self, rule: Mapping[str, Any] | str, start: str, end: str
    ) -> dict[str, Any]:
        self.tested.append((rule, start, end))
        checked = (await self.get_rule(rule)) if isinstance(rule, str) else dict(rule)
        if not isinstance(rule, str):
            self._check({**DEFAULTS, **checked})
        threshold = checked.get("threshold")
        return {
            "ruleId": checked.get("id", "(unsaved)"),
            "from": start,
            "to": end,
            "evaluated": 3,
            "transitions": [
                {
                    "state": "pending",
                    "previous": "normal",
                    "at": "2026-01-01T00:01:00+00:00",
                    "value": 0.1,
                    "threshold": threshold,
                    "samples": ["1"],
                },
                {
                    "state": "firing",
                    "previous": "pending",
                    "at": "2026-01-01T00:02:00+00:00",
                    "value": 0.05,
                    "threshold": threshold,
                    "samples": ["1", "2"],
                },
            ],
        }

    def _answer(self, rule: dict[str, Any]) -> dict[str, Any]:
        status = {"state": "normal", "value": None, "since": None, "lastEvaluatedAt": None}
        return {**rule, "status": status}
