"""Evaluating every rule over the log: windows, instances, baselines, errors.

Aggregate rules (sentiment, engagement, volume) collect their samples in tumbling windows
of ``window`` seconds (aligned to epoch 0), one per instance (``groupBy`` splits a rule per
stream or platform). A window is evaluated once, when the watermark passes its end: the
watermark only moves when every input polled successfully, so a stalled input freezes
evaluation instead of closing a window short. A window with fewer than ``minSamples``
samples is NoData: the instance keeps its state. Keyword rules fire per matching item
(each its own instance) and resolve ``keepFiringFor`` after the item's time.

Everything here is a function of (state, records, watermark, rules): no wall clock, no I/O.
The state is JSON so it snapshots into the pipeline's commit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from herald.alerts import machine
from herald.alerts.inputs import Compiled, RuleIndex, Seen, fingerprint
from herald.alerts.model import RETENTION, silenced
from herald.pipeline.core import Record
from herald.pipeline.marks import StreamMarks

SAMPLES = 5
_HOUR = 3600.0
_KEYWORD_INSTANCES = 10_000
_LIFECYCLE = frozenset({"stream:error", "stream:stopped", "stream:started", "stream:resumed"})
_GAP = "stream:gap"


@dataclass(frozen=True, slots=True)
class Change:
    """A transition of one instance, with what it was measured at."""

    rule: dict[str, Any]
    fingerprint: str
    instance: dict[str, Any]
    transition: machine.Transition
    value: float | None
    threshold: float | str
    samples: list[str]


def _new_rule_state(compiled: Compiled) -> dict[str, Any]:
    return {"rev": compiled.revision, "to": None, "inst": {}, "blocked": False}


class Evaluator:
    """All rules' state; :meth:`ingest` records, :meth:`advance` the watermark."""

    def __init__(self) -> None:
        self.index = RuleIndex([])
        self.silences: list[dict[str, Any]] = []
        self.state: dict[str, Any] = {"rules": {}, "errors": {}, "stopped": [], "late": 0}
        self.changes: list[Change] = []
        self.touched: set[str] = set()
        """Rules whose status may have changed since the caller last cleared this."""

    # --- rules and state -------------------------------------------------------------
    def set_rules(
        self, rules: Iterable[dict[str, Any]], silences: Sequence[dict[str, Any]], now: float
    ) -> None:
        """Use these rules from now on; a removed, disabled or changed rule ends its active
        alerts (a notified firing gets its resolve) and starts over."""
        old, self.index = self.index, RuleIndex(rules)
        self.silences = list(silences)
        kept = self.state["rules"]
        for rid in list(kept):
            compiled = self.index.rules.get(rid)
            if compiled is None or kept[rid]["rev"] != compiled.revision:
                before = old.rules.get(rid)
                self._end_rule(before.rule if before else {"id": rid}, kept.pop(rid), now)
        for rid, compiled in self.index.rules.items():
            if rid not in kept:
                kept[rid] = _new_rule_state(compiled)

    def _end_rule(self, rule: dict[str, Any], rstate: dict[str, Any], now: float) -> None:
        for fp, inst in rstate["inst"].items():
            if inst["state"] in machine.ACTIVE and inst["notified"]:
                t = machine.resolve(inst, max(now, float(inst["since"])))
                threshold = rule.get("threshold", "")
                self.changes.append(Change(rule, fp, inst, t, inst["value"], threshold, []))

    def restore(self, state: Mapping[str, Any]) -> None:
        self.state = {
            "rules": dict(state["rules"]),
            "errors": dict(state["errors"]),
            "stopped": list(state["stopped"]),
            "late": int(state.get("late", 0)),
        }

    # --- records ---------------------------------------------------------------------
    def ingest(self, records: Sequence[Record]) -> None:
        rules = self.state["rules"]
        for record in records:
            seen = Seen.of(record)
            etype = str(record.event.get("type", ""))
            if etype.startswith("stream:") and etype in _LIFECYCLE:
                self._lifecycle(etype, seen)
                continue
            if etype == _GAP:
                self._gap(seen)
                continue
            if not seen.new_item and seen.metrics is None:
                continue
            metrics = seen.metrics is not None
            for compiled in self.index.candidates(seen.stream_id, seen.platform):
                if (compiled.type == "engagement") != metrics or not seen.reaches(compiled):
                    continue
                rstate = rules.get(compiled.id)
                if rstate is None:
                    continue
                if compiled.type == "keyword":
                    if seen.matches_keyword(compiled):
                        self._keyword(compiled, rstate, seen)
                    continue
                value = seen.sample(compiled)
                if value is not None:
                    self._add(compiled, rstate, seen, value)

    def _lifecycle(self, etype: str, seen: Seen) -> None:
        """Errors mark a stream as failing until the watermark passes them (it polled well
        since); a stream stopped after errors stays failing until it is started again."""
        errors, stopped, sid = self.state["errors"], self.state["stopped"], seen.stream_id
        self.touched.update(self.index.rules)
        if etype == "stream:error":
            errors[sid] = [seen.record.time, seen.platform]
        elif etype == "stream:stopped":
            by_request = seen.record.event.get("reason") == "stopped by request"
            if by_request:
                errors.pop(sid, None)
                if sid in stopped:
                    stopped.remove(sid)
            elif sid in errors and sid not in stopped:
                stopped.append(sid)
        elif sid in stopped:  # started, resumed
            stopped.remove(sid)

    def _gap(self, seen: Seen) -> None:
        """Items of this stream were missed (``stream:gap``): the window of every aggregate
        rule over it that the gap falls in is incomplete, hence NoData (reason ``gap``),
        never a false "below" or a false resolve."""
        for compiled in self.index.candidates(seen.stream_id, seen.platform):
            if compiled.type == "keyword" or not compiled.covers(seen.stream_id, seen.platform):
                continue
            rstate = self.state["rules"].get(compiled.id)
            if rstate is None:
                continue
            start, key = seen.window_key(compiled.window)
            if rstate["to"] is not None and start < rstate["to"]:
                continue  # that window was evaluated already
            gaps: list[str] = rstate.setdefault("gaps", [])
            if rstate["to"] is not None:  # forget gaps of windows skipped since
                gaps[:] = [g for g in gaps if float(g) >= rstate["to"]]
            if key not in gaps:
                gaps.append(key)
            self.touched.add(compiled.id)

    def _add(self, compiled: Compiled, rstate: dict[str, Any], seen: Seen, value: float) -> None:
        start, key = seen.window_key(compiled.window)
        if rstate["to"] is None:
            rstate["to"] = start
        if start < rstate["to"]:
            self.state["late"] += 1  # its window was already evaluated
            return
        fp, labels = compiled.instance(seen.stream_id, seen.platform)
        inst = rstate["inst"].get(fp)
        if inst is None:
            inst = rstate["inst"][fp] = machine.new_instance(dict(labels), start)
            inst["wins"] = {}
        acc = inst["wins"].get(key)
        if acc is None:
            acc = inst["wins"][key] = [0, 0.0, []]
        acc[0] += 1
        acc[1] += value
        if seen.item_id is not None and len(acc[2]) < SAMPLES and seen.item_id not in acc[2]:
            acc[2].append(seen.item_id)

    def _keyword(self, compiled: Compiled, rstate: dict[str, Any], seen: Seen) -> None:
        labels = dict(compiled.label_base)
        labels["streamId"] = seen.stream_id
        labels["item"] = seen.item_id or seen.record.offset
        fp = fingerprint(compiled.id, labels)
        if fp in rstate["inst"] or len(rstate["inst"]) >= _KEYWORD_INSTANCES:
            return
        inst = rstate["inst"][fp] = machine.new_instance(labels, seen.record.time)
        at = seen.record.time
        inst["value"] = 1.0
        inst["samples"] = [labels["item"]]
        inst["until"] = at + float(compiled.rule["keepFiringFor"])
        hit = silenced(self.silences, labels, at)
        for t in machine.step(inst, True, at, compiled.rule, silenced=hit):
            self._change(compiled.rule, fp, inst, t, compiled.rule["threshold"])

    # --- the watermark ---------------------------------------------------------------
    def advance(self, watermark: float | None, marks: StreamMarks | None = None) -> None:
        """Evaluate every window that ends at or before ``watermark``; with ``marks``, each
        rule's windows up to the mark of the streams in its scope instead."""
        errors: dict[str, list[Any]] = self.state["errors"]
        stopped = set(self.state["stopped"])
        for sid, error in list(errors.items()):
            mark = watermark if marks is None else marks.by_stream.get(sid, marks.low)
            if mark is not None and error[0] < mark and sid not in stopped:
                del errors[sid]  # it polled successfully since: its mark passed its error
                self.touched.update(self.index.rules)
        for rid, compiled in self.index.rules.items():
            rstate = self.state["rules"].get(rid)
            if rstate is None:
                continue
            mark = watermark
            if marks is not None:
                mark = marks.scoped(compiled.streams, compiled.platforms)
            if mark is None:
                continue
            if compiled.type == "keyword":
                self._expire(compiled, rstate, mark)
                continue
            rstate["blocked"] = any(compiled.covers(sid, errors[sid][1]) for sid in stopped)
            self._close_windows(compiled, rstate, mark)

    def _expire(self, compiled: Compiled, rstate: dict[str, Any], watermark: float) -> None:
        for fp in [fp for fp, i in rstate["inst"].items() if float(i["until"]) <= watermark]:
            inst = rstate["inst"].pop(fp)
            t = machine.resolve(inst, float(inst["until"]))
            self._change(compiled.rule, fp, inst, t, compiled.rule["threshold"])
            self.touched.add(compiled.id)
        if rstate["to"] is None or watermark > rstate["to"]:
            rstate["to"] = rstate["at"] = watermark

    def _close_windows(self, compiled: Compiled, rstate: dict[str, Any], watermark: float) -> None:
        w = compiled.window
        if not rstate["inst"] and not compiled.group_by:
            inst = machine.new_instance(dict(compiled.label_base), watermark)
            inst["wins"] = {}
            rstate["inst"][compiled.fingerprint] = inst
        if rstate["to"] is None:
            rstate["to"] = math.floor(watermark / w) * w
            return
        rule = compiled.rule
        settle = float(rule["for"]) + float(rule["keepFiringFor"]) + float(rule["repeatInterval"])
        quiet_limit = int(settle // w) + 3
        quiet = 0
        while rstate["to"] + w <= watermark:
            start = rstate["to"]
            key = repr(start)
            has_data = any(key in i["wins"] for i in rstate["inst"].values())
            has_data = has_data or key in rstate.get("gaps", ())
            quiet = 0 if has_data else quiet + 1
            if quiet > quiet_limit:
                # a long quiet stretch: every instance has settled, skip to its end
                ahead = [float(k) for i in rstate["inst"].values() for k in i["wins"]]
                nxt = min((a for a in ahead if a > start), default=None)
                last = math.floor(watermark / w) * w - w
                target = last if nxt is None else min(nxt, last + w) - w
                if rule.get("baseline"):
                    # quiet windows feed the baseline: skip only what it would forget
                    target = min(target, math.floor((last - RETENTION) / w) * w)
                if target > start:
                    rstate["to"] = target
                    quiet = 0
                    continue
            self._evaluate(compiled, rstate, start, start + w)
            rstate["to"] = rstate["at"] = start + w
            self.touched.add(compiled.id)

    def _evaluate(
        self, compiled: Compiled, rstate: dict[str, Any], start: float, end: float
    ) -> None:
        rule = compiled.rule
        key = repr(start)
        min_samples = int(rule["minSamples"])
        gaps: list[str] = rstate.get("gaps") or []
        gap = key in gaps
        if gap:
            gaps.remove(key)
        for fp, inst in list(rstate["inst"].items()):
            n, total, samples = inst["wins"].pop(key, [0, 0.0, []])
            inst["evaluatedAt"] = end
            if rstate["blocked"]:
                continue
            inst.pop("reason", None)
            if gap:
                inst["nodata"], inst["reason"] = True, "gap"  # incomplete: no verdict
                continue
            if n < min_samples or (n == 0 and compiled.type == "sentiment"):
                inst["nodata"] = True
                continue
            inst["nodata"] = False
            value = total / n if compiled.type == "sentiment" else total
            threshold = self._threshold(rule, inst, value, end)
            inst["value"] = value
            inst["samples"] = samples
            if threshold is None:
                inst["nodata"] = True  # a relative rule still learning its baseline
                continue
            active = inst["state"] in machine.ACTIVE
            ok = machine.holds(rule, value, threshold, active)
            hit = ok and silenced(self.silences, inst["labels"], end)
            for t in machine.step(inst, ok, end, rule, silenced=hit):
                self._change(rule, fp, inst, t, threshold)
            if (
                rule.get("groupBy")
                and inst["state"] == machine.NORMAL
                and not inst["wins"]
                and end - float(inst["since"]) > RETENTION
            ):
                del rstate["inst"][fp]  # a group quiet for the whole retention: forget it

    @staticmethod
    def _threshold(
        rule: dict[str, Any], inst: dict[str, Any], value: float, end: float
    ) -> float | None:
        """The threshold, or for a relative rule the baseline's mean +/- k sigma, never
        past the absolute minimum (None while the baseline holds too few windows); then
        the value joins the baseline."""
        threshold = float(rule["threshold"])
        spec = rule.get("baseline")
        if not spec:
            return threshold
        base: dict[str, list[float]] = inst.setdefault("base", {})
        horizon = end - RETENTION
        for hour in [h for h in base if float(h) < horizon]:
            del base[hour]
        n = sum(b[0] for b in base.values())
        out: float | None = None
        if n >= int(spec["minWindows"]):
            total = sum(b[1] for b in base.values())
            squares = sum(b[2] for b in base.values())
            mean = total / n
            sigma = math.sqrt(max(squares / n - mean * mean, 0.0))
            k = float(spec["k"])
            if rule["condition"] == "above":
                out = max(threshold, mean + k * sigma)
            else:
                out = min(threshold, mean - k * sigma)
        bucket = base.setdefault(repr(math.floor(end / _HOUR) * _HOUR), [0, 0.0, 0.0])
        bucket[0] += 1
        bucket[1] += value
        bucket[2] += value * value
        return out

    def _change(
        self,
        rule: dict[str, Any],
        fp: str,
        inst: dict[str, Any],
        t: machine.Transition,
        threshold: float | str,
    ) -> None:
        value = inst.get("value")
        self.touched.add(str(rule["id"]))
        self.changes.append(
            Change(rule, fp, inst, t, value, threshold, list(inst.get("samples") or []))
        )

    # --- what the status shows -------------------------------------------------------
    def status(self, rid: str) -> dict[str, Any]:
        """``{state, value, since, lastEvaluatedAt, fingerprint?}`` of one rule."""
        from herald.alerts.model import iso

        rstate = self.state["rules"].get(rid)
        compiled = self.index.rules.get(rid)
        if rstate is None or compiled is None:
            return {"state": "normal", "value": None, "since": None, "lastEvaluatedAt": None}
        rank = {"firing": 5, "recovering": 4, "pending": 3, "resolved": 2, "normal": 1}
        insts = list(rstate["inst"].items())
        fp, inst = max(insts, key=lambda p: rank[p[1]["state"]], default=(None, None))
        to = rstate.get("at")
        out: dict[str, Any] = {
            "state": inst["state"] if inst else "normal",
            "value": inst.get("value") if inst else None,
            "since": iso(float(inst["since"])) if inst else None,
            "lastEvaluatedAt": iso(float(to)) if to is not None else None,
            "instances": len(insts),
        }
        if fp is not None and inst is not None and inst["state"] != "normal":
            out["fingerprint"] = fp
        if out["state"] == "normal" and insts and all(i.get("nodata") for _, i in insts):
            out["state"] = "nodata"
            reasons = sorted({str(i["reason"]) for _, i in insts if i.get("reason")})
            if reasons:
                out["reason"] = ",".join(reasons)
        failing = sorted(s for s, e in self.state["errors"].items() if compiled.covers(s, e[1]))
        if rstate.get("blocked") or failing:
            out["state"] = "error"
            out["errorStreams"] = failing
        return out
