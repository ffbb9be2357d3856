"""Alerts as a pipeline on the log: the runtime's consumer group, lease and one-script commit.

:class:`AlertsPipeline` is a :class:`~herald.pipeline.Pipeline` whose whole state is the
:class:`~herald.alerts.evaluator.Evaluator`'s, snapshotted into the commit of every batch
together with the ack and the ``alert:firing`` / ``alert:resolved`` events of the batch. A
restarted (or another) worker restores it and goes on in the same state; a batch retried
after a crash produces the same transitions with the same numbers, hence the same eventIds
(``alert.firing:{fingerprint}.{n}@alerts``), which the append-once step records once.

The rules and silences come from a :class:`RuleBook` (reloaded when the store's version
moves), not from the log: a rule edited between a crash and its retry is evaluated as
edited.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from herald.alerts.evaluator import Change, Evaluator
from herald.alerts.model import iso
from herald.events import EventType, event_id, utc_now_iso
from herald.pipeline.core import Output, Pipeline, PipelineStateError, Record
from herald.pipeline.flow import Flow
from herald.pipeline.marks import StreamMarks
from herald.pipeline.runtime.spec import PipelineSpec
from herald.store.alerts import AlertStore
from herald.store.pipelines import Pending

NAME = "alerts"
FULL_STATUS_EVERY = 5.0
"""Seconds between two publications of every rule's status (touched ones go at once)."""
SOURCE = "alerts"
_SHAPE = ["alerts.evaluator.v1"]


class RuleBook:
    """The rules and silences in force, reloaded from the store when its version moves."""

    def __init__(self, store: AlertStore | None = None) -> None:
        self.store = store
        self.version = -1
        self.rules: list[dict[str, Any]] = []
        self.silences: list[dict[str, Any]] = []
        self._published: dict[str, dict[str, Any]] = {}

    @staticmethod
    def fixed(rules: Sequence[dict[str, Any]], silences: Sequence[dict[str, Any]]) -> RuleBook:
        """A book that never reloads (a replay of one rule)."""
        book = RuleBook(None)
        book.version = 0
        book.rules = list(rules)
        book.silences = list(silences)
        return book

    async def refresh(self) -> None:
        if self.store is None:
            return
        version = await self.store.version()
        if version != self.version:
            self.rules = await self.store.rules()
            self.silences = await self.store.silences()
            self.version = version

    async def publish(self, statuses: Mapping[str, dict[str, Any]]) -> None:
        """Write the statuses that changed since the last call."""
        if self.store is None:
            return
        changed = {k: v for k, v in statuses.items() if self._published.get(k) != v}
        if changed:
            await self.store.set_statuses(changed)
            self._published.update(changed)


class AlertsPipeline(Pipeline):
    """Every enabled rule, evaluated batch by batch; outputs are the notified transitions."""

    def __init__(self, book: RuleBook, *, publish: bool = True) -> None:
        super().__init__(NAME, Flow())
        self.book = book
        self.evaluator = Evaluator()
        self._publish = publish
        self._applied = -2
        self._applied_published = -3
        self._published_all = float("-inf")
        self.transitions: list[Change] = []
        """Every transition of the last ``process`` (Pending and Recovering too)."""
        self._marks: StreamMarks | None = None
        self._marks_applied: StreamMarks | None = None

    def set_marks(self, marks: StreamMarks) -> bool:
        """Each rule closes its windows at the mark of the streams in its scope (a stalled
        feed holds back only the rules that read it); True if these are new."""
        if marks == self._marks_applied:
            return False
        self._marks = marks
        return True

    async def process(self, records: Sequence[Record], watermark: float | None) -> list[Output]:
        self.late, self.dead_letters = [], []
        await self.book.refresh()
        ev = self.evaluator
        ev.changes = []
        for record in records:
            if record.time > self._now:
                self._now = record.time
        moved = watermark is not None and (self._watermark is None or watermark > self._watermark)
        if moved:
            assert watermark is not None
            self._watermark = watermark
            self._now = max(self._now, watermark)
        marks = self._marks if self._marks != self._marks_applied else None
        if marks is not None:
            self._marks_applied = marks
            high = max(marks.by_stream.values(), default=-math.inf)
            if math.isfinite(high):
                self._now = max(self._now, high)
        if self.book.version != self._applied:
            now = self._now if math.isfinite(self._now) else 0.0
            ev.set_rules(self.book.rules, self.book.silences, now)
            self._applied = self.book.version
        ev.ingest(records)
        if marks is not None:
            ev.advance(self._watermark, marks)
        elif moved:
            assert self._watermark is not None
            ev.advance(self._watermark)
        self.transitions = list(ev.changes)
        if self._publish:
            await self._statuses()
        return [output(change) for change in ev.changes if change.transition.notify]

    async def _statuses(self) -> None:
        """Publish the statuses of the rules touched, and of every rule now and then (the
        keyword rules' ``lastEvaluatedAt`` moves with every watermark)."""
        ev = self.evaluator
        now = time.monotonic()
        if (
            now - self._published_all >= FULL_STATUS_EVERY
            or self._applied_published != self._applied
        ):
            names = list(ev.index.rules)
            self._published_all = now
            self._applied_published = self._applied
        else:
            names = [rid for rid in ev.touched if rid in ev.index.rules]
        ev.touched.clear()
        if names:
            await self.book.publish({rid: ev.status(rid) for rid in names})

    async def drain(self) -> list[Output]:
        self.transitions = []
        return []

    def snapshot(self) -> bytes:
        from herald.pipeline.state import encode

        return encode(
            NAME,
            _SHAPE,
            {
                "watermark": self._watermark,
                "now": None if not math.isfinite(self._now) else self._now,
                "evaluator": self.evaluator.state,
            },
        )

    def restore(self, data: bytes) -> None:
        from herald.pipeline.state import decode

        body = decode(data, NAME, _SHAPE)
        fresh = Evaluator()
        try:
            fresh.restore(body["evaluator"])
            watermark, now = body["watermark"], body["now"]
        except (KeyError, TypeError, ValueError) as exc:
            raise PipelineStateError(f"pipeline {NAME!r}: state does not fit: {exc}") from exc
        self.evaluator = fresh
        self._applied = -2
        self._watermark = None if watermark is None else float(watermark)
        self._now = float("-inf") if now is None else float(now)

    def metrics(self) -> Mapping[str, Mapping[str, float]]:
        rules = self.evaluator.state["rules"]
        return {
            "alerts": {
                "rules": float(len(rules)),
                "instances": float(sum(len(r["inst"]) for r in rules.values())),
                "late": float(self.evaluator.state.get("late", 0)),
            }
        }


def output(change: Change) -> Output:
    """A notified transition as the pipeline's output (see :func:`encode`)."""
    t = change.transition
    rule = change.rule
    inst = change.instance
    alert: dict[str, Any] = {
        "ruleId": rule["id"],
        "fingerprint": change.fingerprint,
        "state": t.state,
        "value": change.value,
        "threshold": change.threshold,
        "window": rule.get("window", 0),
        "labels": dict(inst["labels"]),
        "samples": list(change.samples),
        "startsAt": iso(float(inst["firedAt"] if inst.get("firedAt") is not None else t.at)),
    }
    if t.state == "resolved":
        alert["endsAt"] = iso(t.at)
    data = {
        "alert": alert,
        "channel": rule.get("channel") or inst["labels"].get("channel", ""),
        "priority": rule.get("priority", 2),
        "correlationId": change.fingerprint,
    }
    return Output(f"{change.fingerprint}.{t.number}", t.state, data, t.at)


def encode(out: Output) -> Pending:
    """The ``alert:firing`` / ``alert:resolved`` event of one output; the eventId comes from
    the fingerprint and the transition's number, so a retried batch appends it once."""
    etype = EventType.ALERT_FIRING if out.name == "firing" else EventType.ALERT_RESOLVED
    eid = event_id(etype, out.key, SOURCE)
    body = {
        "type": etype.value,
        "eventId": eid,
        "streamId": f"pipeline:{NAME}",
        "platform": "herald",
        **out.data,
        "detectedAt": utc_now_iso(),
    }
    return Pending(eid, etype.value, orjson.dumps(body))


def alerts_spec(build: Callable[[], AlertsPipeline], *, skew: float | None = None) -> PipelineSpec:
    """The alerts pipeline as the runtime runs it: every stream, from new events on."""
    return PipelineSpec(name=NAME, build=build, source="herald.alerts", skew=skew, encode=encode)
