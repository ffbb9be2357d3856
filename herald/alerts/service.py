"""The alerts service every surface uses: rules and silences as JSON, and the dry run.

Validation happens here, once, before the store is touched (a refused rule stores
nothing). The rule's live ``status`` comes from what the evaluator last published.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from herald.alerts.model import RuleExists, iso, parse_rule, parse_silence, refuse
from herald.alerts.pipeline import AlertsPipeline, RuleBook
from herald.errors import NotFound, ValidationError
from herald.pipeline.core import Record
from herald.store.alerts import AlertStore
from herald.store.pipelines import PipelineStore

_NO_STATUS = {"state": "normal", "value": None, "since": None, "lastEvaluatedAt": None}
#: The most log entries one dry run reads.
REPLAY_LIMIT = 1_000_000


class AlertsManager:
    """:class:`~herald.alerts.base.AlertsService` over an :class:`AlertStore`."""

    def __init__(
        self,
        store: AlertStore,
        log: PipelineStore | None = None,
        *,
        skew: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._log = log
        self._skew = skew
        self._clock = clock

    # --- rules ---------------------------------------------------------------------
    async def _answer(self, rule: dict[str, Any], statuses: Mapping[str, Any]) -> dict[str, Any]:
        status = statuses.get(rule["id"])
        if not rule.get("enabled", True):
            status = {**_NO_STATUS, "state": "normal", "disabled": True}
        return {**rule, "status": dict(status) if status else dict(_NO_STATUS)}

    async def list_rules(self) -> list[dict[str, Any]]:
        statuses = await self.store.statuses()
        return [await self._answer(rule, statuses) for rule in await self.store.rules()]

    async def get_rule(self, rule_id: str) -> dict[str, Any]:
        rule = await self.store.rule(rule_id)
        if rule is None:
            raise NotFound(f"no alert rule {rule_id!r}")
        return await self._answer(rule, await self.store.statuses())

    async def create_rule(self, body: Mapping[str, Any]) -> dict[str, Any]:
        rule = parse_rule(_without_status(body), now=iso(self._clock()))
        if not await self.store.create_rule(rule):
            raise RuleExists(f"an alert rule with id {rule['id']!r} exists")
        return await self._answer(rule, {})

    async def update_rule(self, rule_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        current = await self.store.rule(rule_id)
        if current is None:
            raise NotFound(f"no alert rule {rule_id!r}")
        changes = _without_status(body)
        if "id" in changes and changes["id"] != rule_id:
            raise refuse("id", "a rule's id cannot change")
        merged = {**current, **changes}
        created = str(current.get("createdAt") or "") or None
        rule = parse_rule(merged, now=iso(self._clock()), rule_id=rule_id, created=created)
        if not await self.store.replace_rule(rule):
            raise NotFound(f"no alert rule {rule_id!r}")
        return await self._answer(rule, await self.store.statuses())

    async def delete_rule(self, rule_id: str) -> None:
        if not await self.store.delete_rule(rule_id):
            raise NotFound(f"no alert rule {rule_id!r}")

    # --- silences -------------------------------------------------------------------
    async def list_silences(self) -> list[dict[str, Any]]:
        now = self._clock()
        return [_silence_out(s) for s in await self.store.silences() if float(s["endsAt"]) > now]

    async def create_silence(self, body: Mapping[str, Any]) -> dict[str, Any]:
        silence = parse_silence(body, now=self._clock())
        await self.store.put_silence(silence)
        return _silence_out(silence)

    async def delete_silence(self, silence_id: str) -> None:
        if not await self.store.delete_silence(silence_id):
            raise NotFound(f"no silence {silence_id!r}")

    # --- the dry run ----------------------------------------------------------------
    async def test_rule(
        self, rule: Mapping[str, Any] | str, start: str, end: str
    ) -> dict[str, Any]:
        """What ``rule`` would have done over the log from ``start`` to ``end``: the same
        evaluator as the live pipeline, fed the log's records with event time as the
        watermark (history holds no poll times); nothing is stored or appended."""
        from herald.pipeline.runtime.replay import parse_bound, replay

        if isinstance(rule, str):
            found = await self.store.rule(rule)
            if found is None:
                raise NotFound(f"no alert rule {rule!r}")
            parsed = {**found, "enabled": True}
        else:
            parsed = parse_rule(_without_status(rule), now=iso(self._clock()))
            parsed["enabled"] = True
        if self._log is None:
            raise ValidationError("test_rule needs the event log")
        now = self._clock()
        lo = parse_bound(start, "from", end=False, now=now)
        hi = parse_bound(end, "to", end=True, now=now)
        if _ms(lo) > _ms(hi):
            raise refuse("to", "must not be before from")
        pipeline = AlertsPipeline(
            RuleBook.fixed([parsed], await self.store.silences()), publish=False
        )
        transitions: list[dict[str, Any]] = []
        newest = -math.inf
        evaluated = 0
        chunk: list[Record] = []

        async def feed(mark: float | None) -> None:
            await pipeline.process(chunk, mark)
            chunk.clear()
            transitions.extend(_transition(c) for c in pipeline.transitions)

        async for record in replay(self._log, lo, hi):
            evaluated += 1
            if record.event.get("streamId") == "pipeline:alerts":
                continue
            chunk.append(record)
            newest = max(newest, record.time)
            if len(chunk) >= 500:
                await feed(newest - self._skew)
            if evaluated >= REPLAY_LIMIT:
                break
        end_time = _ms(hi) / 1000 if _ms(hi) < 2**52 else newest
        await feed(end_time if math.isfinite(end_time) else None)
        return {
            "ruleId": parsed["id"],
            "from": lo,
            "to": hi,
            "evaluated": evaluated,
            "transitions": transitions,
        }


def _ms(offset: str) -> int:
    return int(offset.partition("-")[0])


def _without_status(body: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise refuse("body", "a rule must be a JSON object")
    return {k: v for k, v in body.items() if k != "status"}


def _silence_out(silence: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(silence)
    out["startsAt"] = iso(float(silence["startsAt"]))
    out["endsAt"] = iso(float(silence["endsAt"]))
    return out


def _transition(change: Any) -> dict[str, Any]:
    t = change.transition
    return {
        "state": t.state,
        "previous": t.previous,
        "at": iso(t.at),
        "value": change.value,
        "threshold": change.threshold,
        "samples": list(change.samples),
        "fingerprint": change.fingerprint,
        "notified": t.notify,
    }
