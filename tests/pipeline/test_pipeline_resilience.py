"""call/tee with retry and a circuit breaker, on a virtual clock (no sleeping)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from herald.pipeline import (
    CircuitBreaker,
    CircuitOpen,
    Flow,
    Pipeline,
    RetryPolicy,
    VirtualClock,
)
from tests.pipeline.pipeline_support import rec, values
from tests.waiting import wait_until


class Flaky:
    """An enricher that fails its first ``failures`` calls, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self, event: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"refused (call {self.calls})")
        return {"n": event["n"], "enriched": True}


def test_retry_policy_backoff() -> None:
    policy = RetryPolicy(max_attempts=5, initial=1, factor=2, max_delay=5)
    assert [policy.delay(n) for n in range(1, 5)] == [1, 2, 4, 5]
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


async def test_call_retries_with_backoff_on_the_clock() -> None:
    clock = VirtualClock(0.0)
    enrich = Flaky(failures=2)
    flow = Flow().call(enrich).retry(RetryPolicy(max_attempts=3, initial=1, factor=2))
    p = Pipeline("e", flow, clock=clock)
    task = asyncio.ensure_future(p.process([rec(1, 1.0, n=7)], None))
    await wait_until(lambda: clock.next_wake == 1.0, what="first backoff")
    clock.advance(1)
    await wait_until(lambda: clock.next_wake == 3.0, what="second backoff (doubled)")
    clock.advance(2)
    out = await asyncio.wait_for(task, 10)
    assert values(out) == [{"n": 7, "enriched": True}]
    assert enrich.calls == 3
    assert p.metrics()["0.call"]["retries"] == 2
    assert p.dead_letters == []


async def test_call_that_keeps_failing_is_dead_lettered_and_the_pipeline_goes_on() -> None:
    clock = VirtualClock(0.0)
    flow = Flow().call(Flaky(failures=1)).retry(RetryPolicy(max_attempts=1))
    p = Pipeline("e", flow, clock=clock)
    out = await p.process([rec(1, 1.0, n=1), rec(2, 2.0, n=2)], None)
    assert values(out) == [{"n": 2, "enriched": True}]
    [dead] = p.dead_letters
    assert dead.error == "ConnectionError: refused (call 1)"
    assert dead.operator == "0.call"


async def test_retry_only_on_the_named_errors() -> None:
    async def broken(_: Any) -> Any:
        raise ValueError("bad payload")

    clock = VirtualClock(0.0)
    policy = RetryPolicy(max_attempts=5, retry_on=(ConnectionError,))
    p = Pipeline("e", Flow().call(broken).retry(policy), clock=clock)
    assert await p.process([rec(1, 1.0)], None) == []
    assert p.dead_letters[0].error == "ValueError: bad payload"
    assert "retries" not in p.metrics()["0.call"]


async def test_circuit_breaker_opens_rejects_and_recovers() -> None:
    clock = VirtualClock(100.0)
    calls: list[int] = []
    healthy = False

    def sink(event: Any) -> None:
        calls.append(event["n"])
        if not healthy:
            raise ConnectionError("down")

    p = Pipeline("w", Flow().tee(sink).circuit_breaker(threshold=2, recovery=30), clock=clock)
    out = await p.process([rec(i, float(i), n=i) for i in range(5)], None)
    # The tee passes every element on, whatever the sink did.
    assert len(out) == 5
    # Two failures opened the breaker: the other three were not sent, but dead-lettered.
    assert calls == [0, 1]
    assert [d.error.split(":")[0] for d in p.dead_letters] == ["ConnectionError"] * 2 + [
        "CircuitOpen"
    ] * 3
    assert p.metrics()["0.tee"]["breaker_state"] == 1
    assert p.metrics()["0.tee"]["breaker_rejected"] == 3
    # After the recovery time one trial goes out; it fails, so the breaker opens again.
    clock.advance(30)
    await p.process([rec(10, 10.0, n=10), rec(11, 11.0, n=11)], None)
    assert calls == [0, 1, 10]
    # Next time the trial succeeds and the breaker closes.
    clock.advance(30)
    healthy = True
    await p.process([rec(12, 12.0, n=12), rec(13, 13.0, n=13)], None)
    assert calls == [0, 1, 10, 12, 13]
    assert p.metrics()["0.tee"]["breaker_state"] == 0


def test_circuit_breaker_states() -> None:
    clock = VirtualClock(0.0)
    breaker = CircuitBreaker(threshold=3, recovery=10, clock=clock)
    for _ in range(2):
        breaker.before()
        breaker.failure()
    breaker.success()
    assert breaker.failures == 0
    for _ in range(3):
        breaker.before()
        breaker.failure()
    with pytest.raises(CircuitOpen):
        breaker.before()
    clock.advance(10)
    assert breaker.state.name == "HALF_OPEN"
    breaker.before()
    breaker.failure()
    assert breaker.state.name == "OPEN"


def test_retry_and_breaker_follow_a_call_or_tee() -> None:
    with pytest.raises(ValueError, match="follows call"):
        Flow().map(lambda v: v).retry(RetryPolicy())
    with pytest.raises(ValueError, match="follows call"):
        Flow().circuit_breaker(3, 10)
