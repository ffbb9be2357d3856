"""The state machine alone, on a virtual clock: Normal -> Pending -> Firing -> Recovering ->
Resolved -> Normal, what is notified, silences and the repeat interval."""

from __future__ import annotations

from typing import Any

from herald.alerts import machine
from herald.pipeline.clock import VirtualClock


def rule(**kw: Any) -> dict[str, Any]:
    base = {"condition": "above", "threshold": 10.0, "for": 0, "keepFiringFor": 0}
    return {**base, "repeatInterval": 0, "resolveThreshold": None, **kw}


class Run:
    """Evaluations every ``every`` s of virtual time; the transitions taken, as text."""

    def __init__(self, r: dict[str, Any], every: float = 60.0) -> None:
        self.rule = r
        self.clock = VirtualClock(1_000_000.0)
        self.every = every
        self.inst = machine.new_instance({}, self.clock.now())
        self.log: list[str] = []

    def eval(self, holds: bool, *, silenced: bool = False) -> list[str]:
        self.clock.advance(self.every)
        taken = machine.step(self.inst, holds, self.clock.now(), self.rule, silenced=silenced)
        out = [f"{t.previous}>{t.state}{'!' if t.notify else ''}" for t in taken]
        self.log.extend(out)
        return out


def test_for_holds_pending_then_fires_once_then_resolves_once() -> None:
    run = Run(rule(**{"for": 180}))
    assert run.eval(True) == ["normal>pending"]
    assert run.eval(True) == []
    assert run.eval(True) == []  # 120 s held: not yet
    assert run.eval(True) == ["pending>firing!"]  # 180 s held
    assert run.eval(True) == []  # still firing: no second notification
    assert run.eval(False) == ["firing>resolved!"]
    assert run.eval(False) == ["resolved>normal"]
    assert run.inst["n"] == 4


def test_a_break_in_pending_starts_over() -> None:
    run = Run(rule(**{"for": 120}))
    run.eval(True)
    run.eval(True)
    assert run.eval(False) == ["pending>normal"]
    assert run.eval(True) == ["normal>pending"]
    assert run.eval(True) == []
    assert run.eval(True) == ["pending>firing!"]


def test_keep_firing_for_rides_out_a_dip_without_a_new_notification() -> None:
    run = Run(rule(keepFiringFor=120))
    assert run.eval(True) == ["normal>firing!"]
    assert run.eval(False) == ["firing>recovering"]
    assert run.eval(True) == ["recovering>firing"]  # back, not notified again
    assert run.eval(False) == ["firing>recovering"]
    assert run.eval(False) == []  # 60 s of the 120
    assert run.eval(False) == ["recovering>resolved!"]
    notified = [entry for entry in run.log if entry.endswith("!")]
    assert notified == ["normal>firing!", "recovering>resolved!"]


def test_hysteresis_measures_an_active_alert_against_the_resolve_threshold() -> None:
    r = rule(resolveThreshold=6.0)
    assert machine.holds(r, 11, 10, active=False)
    assert not machine.holds(r, 8, 10, active=False), "8 does not fire an above-10 rule"
    assert machine.holds(r, 8, 10, active=True), "but a firing one stays firing at 8"
    assert not machine.holds(r, 5, 10, active=True)
    below = rule(condition="below", threshold=-0.3, resolveThreshold=-0.1)
    assert machine.holds(below, -0.2, -0.3, active=True)
    assert not machine.holds(below, -0.05, -0.3, active=True)
    assert machine.holds(rule(condition="equals"), 10.0, 10.0, active=False)
    assert not machine.holds(rule(condition="equals"), 10.5, 10.0, active=False)


def test_silenced_firing_changes_state_but_is_not_notified_nor_its_resolve() -> None:
    run = Run(rule())
    assert run.eval(True, silenced=True) == ["normal>firing"]
    assert run.inst["state"] == "firing"
    assert run.eval(False) == ["firing>resolved"]


def test_repeat_interval_holds_back_a_flapping_alert() -> None:
    run = Run(rule(repeatInterval=300))
    assert run.eval(True) == ["normal>firing!"]
    assert run.eval(False) == ["firing>resolved!"]
    assert run.eval(True) == ["resolved>firing"]  # 120 s after the last notified firing
    assert run.eval(False) == ["firing>resolved"]
    run.eval(False)
    run.eval(False)
    assert run.eval(True) == ["normal>firing!"]  # 360 s after: notified again
