"""Snapshot -> restore -> the same outputs as an uninterrupted run, whatever the batching.

This is what exactly-once rests on: after a crash the runtime restores the last committed
snapshot and re-processes the batch; the outputs (and their keys) must be the ones the
uninterrupted run would have made.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herald.pipeline import Agg, Flow, Output, Pipeline, Record, Session, Sliding, Tumbling


def parse(event: Any) -> int:
    return 60 // event["n"]  # n == 0 raises: a dead letter


def running(state: list[int], value: int) -> tuple[list[int], Any]:
    total, count = state[0] + value, state[1] + 1
    return [total, count], {"total": total, "count": count} if count % 3 == 0 else None


def flow() -> Flow:
    return Flow().fork(
        volume=lambda f: f.window(Tumbling(10), key=lambda e: e["k"]).aggregate(Agg.count()),
        filled=lambda f: f.window(Tumbling(10), key=lambda e: e["k"], fill_empty=True).aggregate(
            Agg.avg(lambda e: e["n"])
        ),
        sliding=lambda f: f.map(parse).window(Sliding(20, 10)).aggregate(Agg.sum()),
        sessions=lambda f: f.window(Session(7), key=lambda e: e["k"]).aggregate(
            Agg.collect(lambda e: e["n"])
        ),
        batches=lambda f: f.map(lambda e: e["n"]).batch(4, timeout=15),
        per_key=lambda f: f.stateful(lambda e: e["k"], lambda s, e: running(s, e["n"]), [0, 0]),
        quiet=lambda f: f.debounce(5, key=lambda e: e["k"]).map(lambda e: e["n"]),
        limited=lambda f: f.rate_limit(0.5, burst=2).map(lambda e: e["n"]),
        throttled=lambda f: f.throttle(4).map(lambda e: e["n"]),
    )


def build() -> Pipeline:
    return Pipeline("prop", flow())


def seen(outputs: list[Output]) -> list[tuple[str, str, Any, float]]:
    return [(o.key, o.name, dict(o.data), o.time) for o in outputs]


@st.composite
def scenario(draw: st.DrawFn) -> list[tuple[list[Record], float | None]]:
    count = draw(st.integers(min_value=0, max_value=60))
    records = []
    clock = 0
    for index in range(count):
        clock += draw(st.integers(min_value=0, max_value=4))
        jitter = draw(st.integers(min_value=0, max_value=8))  # out of order, some late
        event = {"k": draw(st.sampled_from("ab")), "n": draw(st.integers(0, 5))}
        records.append(Record(f"{index + 1}-0", event, float(max(0, clock - jitter))))
    cuts = sorted(draw(st.lists(st.integers(0, count), max_size=8)))
    batches = []
    last = 0
    for cut in [*cuts, count]:
        batch = records[last:cut]
        last = cut
        newest = max((r.time for r in records[:cut]), default=0.0)
        watermark = draw(st.one_of(st.none(), st.just(newest - 3), st.just(newest + 1)))
        batches.append((batch, watermark))
    return batches


async def run_uninterrupted(batches: list[tuple[list[Record], float | None]]) -> list[Any]:
    pipeline = build()
    found: list[Any] = []
    for records, watermark in batches:
        out = await pipeline.process(records, watermark)
        found.append(
            (
                seen(out),
                [r.offset for r in pipeline.late],
                [d.origin for d in pipeline.dead_letters],
            )
        )
    found.append(seen(await pipeline.drain()))
    return found


async def run_restored(batches: list[tuple[list[Record], float | None]]) -> list[Any]:
    """Every batch on a fresh pipeline from the last snapshot, run twice: once "crashing"
    before its commit, once for real. Both must give the same."""
    snapshot = build().snapshot()
    found: list[Any] = []
    for records, watermark in batches:
        attempts = []
        for _ in range(2):
            pipeline = build()
            pipeline.restore(snapshot)
            out = await pipeline.process(records, watermark)
            attempts.append(
                (
                    seen(out),
                    [r.offset for r in pipeline.late],
                    [d.origin for d in pipeline.dead_letters],
                )
            )
        assert attempts[0] == attempts[1]
        found.append(attempts[1])
        snapshot = pipeline.snapshot()
    pipeline = build()
    pipeline.restore(snapshot)
    found.append(seen(await pipeline.drain()))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
async def test_restored_runs_give_the_outputs_of_an_uninterrupted_run(
    batches: list[tuple[list[Record], float | None]],
) -> None:
    expected = await run_uninterrupted(batches)
    assert await run_restored(batches) == expected
    keys = [key for step in expected[:-1] for key, *_ in step[0]] + [k for k, *_ in expected[-1]]
    assert len(keys) == len(set(keys)), "output keys are unique within the pipeline"
