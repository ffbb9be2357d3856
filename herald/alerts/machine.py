"""The life of one alert instance, as in Prometheus and Grafana, as a pure function.

Normal -> Pending (the condition holds, for less than ``for``) -> Firing -> Recovering (the
condition stopped holding, for less than ``keepFiringFor``) -> Resolved -> Normal. A
Recovering alert whose condition holds again goes back to Firing without a new
notification. NoData and Error are not steps here: when a window has too few samples or
an input is failing, the evaluator does not call :func:`step` at all, so the instance keeps
the state it had (no fire, no resolve on missing data) and the rule shows ``nodata`` or
``error`` beside it.

Time is whatever the caller passes as ``at`` (a window's end, an item's time), never the
wall clock, so a replay of the log gives the same transitions as the live run.

Only two transitions are notified (appended to the log): Firing and Resolved. A firing is
not notified while a silence matches or within ``repeatInterval`` of the instance's last
notified firing; the state changes all the same. A resolve is notified only when the
firing it ends was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NORMAL, PENDING, FIRING, RECOVERING, RESOLVED = (
    "normal",
    "pending",
    "firing",
    "recovering",
    "resolved",
)
ACTIVE = (FIRING, RECOVERING)


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of state; ``notify`` says it is appended to the log as an event."""

    state: str
    previous: str
    at: float
    number: int
    notify: bool


def new_instance(labels: dict[str, str], at: float) -> dict[str, Any]:
    """A fresh instance, Normal since ``at`` (JSON only: it lives in the pipeline state)."""
    return {
        "labels": labels,
        "state": NORMAL,
        "since": at,
        "activeAt": None,
        "firedAt": None,
        "recoverAt": None,
        "value": None,
        "n": 0,
        "notified": False,
        "lastNotifiedAt": None,
        "samples": [],
    }


def _move(inst: dict[str, Any], state: str, at: float, notify: bool) -> Transition:
    previous = inst["state"]
    inst["state"] = state
    inst["since"] = at
    inst["n"] += 1
    return Transition(state, previous, at, inst["n"], notify)


def _fire(inst: dict[str, Any], at: float, rule: dict[str, Any], silenced: bool) -> Transition:
    last = inst["lastNotifiedAt"]
    too_soon = last is not None and at - float(last) < float(rule.get("repeatInterval") or 0)
    notify = not silenced and not too_soon
    inst["firedAt"] = at
    inst["recoverAt"] = None
    inst["notified"] = notify
    if notify:
        inst["lastNotifiedAt"] = at
    return _move(inst, FIRING, at, notify)


def step(
    inst: dict[str, Any], holds: bool, at: float, rule: dict[str, Any], *, silenced: bool = False
) -> list[Transition]:
    """Move ``inst`` (in place) on one evaluation at ``at``; the transitions taken."""
    state = inst["state"]
    if state in (NORMAL, RESOLVED, PENDING):
        return _quiet_step(inst, holds, at, rule, silenced)
    keep_for = float(rule.get("keepFiringFor") or 0)
    if state == FIRING:
        if holds:
            return []
        if keep_for <= 0:
            return [resolve(inst, at)]
        inst["recoverAt"] = at
        return [_move(inst, RECOVERING, at, False)]
    # RECOVERING
    if holds:
        inst["recoverAt"] = None
        return [_move(inst, FIRING, at, False)]
    if at - float(inst["recoverAt"]) >= keep_for:
        return [resolve(inst, at)]
    return []


def _quiet_step(
    inst: dict[str, Any], holds: bool, at: float, rule: dict[str, Any], silenced: bool
) -> list[Transition]:
    """Normal, Resolved and Pending: not (yet) firing."""
    hold_for = float(rule.get("for") or 0)
    if inst["state"] == PENDING:
        if not holds:
            inst["activeAt"] = None
            return [_move(inst, NORMAL, at, False)]
        if at - float(inst["activeAt"]) >= hold_for:
            return [_fire(inst, at, rule, silenced)]
        return []
    if not holds:
        return [_move(inst, NORMAL, at, False)] if inst["state"] == RESOLVED else []
    inst["activeAt"] = at
    if hold_for <= 0:
        return [_fire(inst, at, rule, silenced)]
    return [_move(inst, PENDING, at, False)]


def resolve(inst: dict[str, Any], at: float) -> Transition:
    """Firing or Recovering -> Resolved; notified when the firing was."""
    inst["activeAt"] = None
    inst["recoverAt"] = None
    return _move(inst, RESOLVED, at, bool(inst["notified"]))


def holds(rule: dict[str, Any], value: float, threshold: float, active: bool) -> bool:
    """Whether ``value`` meets the rule's condition; an active alert (Firing, Recovering)
    is measured against ``resolveThreshold`` when set (hysteresis)."""
    condition = rule["condition"]
    if active and rule.get("resolveThreshold") is not None:
        resolve_at = float(rule["resolveThreshold"])
        # the relative part of a spike rule moves both thresholds alike
        limit = resolve_at + (threshold - float(rule["threshold"]))
        return value > limit if condition == "above" else value < limit
    if condition == "above":
        return value > threshold
    if condition == "below":
        return value < threshold
    return abs(value - threshold) <= 1e-9 * max(1.0, abs(threshold))
