"""The pipeline contract: event time, output keys, dead letters, metrics, state errors."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from herald.pipeline import (
    Agg,
    Flow,
    Pipeline,
    PipelineStateError,
    Record,
    Tumbling,
    event_time,
)
from tests.pipeline.pipeline_support import keys, rec, values


def test_event_time_is_the_items_own_time_not_detected_at() -> None:
    tweet = {
        "type": "stream:tweet:new",
        "detectedAt": "2026-01-01T00:05:00+00:00",
        "tweet": {"id": "1", "timestamp": "2026-01-01T00:00:00Z"},
    }
    assert event_time(tweet) == 1767225600.0
    entry = {"entry": {"published": "2026-01-01T00:00:30+00:00"}, "detectedAt": "x"}
    assert event_time(entry) == 1767225630.0
    trade_ms = {"trade": {"time": 1767225600123}}
    assert event_time(trade_ms) == pytest.approx(1767225600.123)
    no_item = {"type": "stream:follower:count", "detectedAt": "2026-01-01T00:05:00+00:00"}
    assert event_time(no_item) == 1767225900.0
    unparsable = {"tweet": {"timestamp": "yesterday"}, "detectedAt": "2026-01-01T00:05:00Z"}
    assert event_time(unparsable) == 1767225900.0
    assert event_time({}) == 0.0
    assert Record.of("1-0", tweet).time == 1767225600.0


async def test_map_filter_flat_map_and_output_keys() -> None:
    flow = (
        Flow()
        .filter(lambda e: e["n"] % 2 == 0)
        .map(lambda e: e["n"])
        .flat_map(lambda n: [n, n + 1] if n else [])
    )
    p = Pipeline("p", flow)
    out = await p.process([rec(i, float(i), n=i) for i in range(5)], None)
    assert values(out) == [{"value": 2}, {"value": 3}, {"value": 4}, {"value": 5}]
    assert keys(out) == ["p:2-0.0", "p:2-0.1", "p:4-0.0", "p:4-0.1"]
    assert all(o.name == "p" for o in out)
    assert [o.time for o in out] == [2.0, 2.0, 4.0, 4.0]


async def test_output_keys_are_the_same_on_every_run() -> None:
    def build() -> Pipeline:
        flow = Flow().window(Tumbling(10), key=lambda e: e["s"]).aggregate(Agg.count())
        return Pipeline("vol", flow, output="volume")

    records = [rec(i, float(i), s="ab"[i % 2]) for i in range(30)]
    first = await build().process(records, 30.0)
    second = await build().process(records, 30.0)
    assert first == second
    assert len(set(keys(first))) == len(first) == 6
    assert first[0].key == "volume:0.window[0.000,10.000)a"
    assert first[0].name == "volume"


async def test_a_raising_function_dead_letters_the_item_and_the_pipeline_goes_on() -> None:
    def parse(e: Any) -> int:
        return 100 // e["n"]

    p = Pipeline("p", Flow().map(parse).filter(lambda v: v > 10))
    out = await p.process([rec(i, float(i), n=i) for i in range(4)], None)
    assert values(out) == [{"value": 100}, {"value": 50}, {"value": 33}]
    [dead] = p.dead_letters
    assert dead.operator == "0.map"
    assert dead.origin == "0-0"
    assert dead.error == "ZeroDivisionError: integer division or modulo by zero"
    assert dead.value == {"type": "stream:tweet:new", "streamId": "s1", "n": 0}
    metrics = p.metrics()
    assert metrics["0.map"]["errors"] == 1
    assert metrics["0.map"]["in"] == 4
    assert metrics["0.map"]["out"] == 3
    # The next batch starts with no dead letters of its own.
    await p.process([rec(9, 9.0, n=1)], None)
    assert p.dead_letters == []
    assert p.metrics()["0.map"]["errors"] == 1


async def test_metrics_per_operator() -> None:
    p = Pipeline("p", Flow().filter(lambda e: e["n"] > 1).map(lambda e: e))
    await p.process([rec(i, float(i), n=i) for i in range(5)], None)
    metrics = p.metrics()
    assert list(metrics) == ["0.filter", "1.map", "2.emit"]
    assert metrics["0.filter"]["in"] == 5
    assert metrics["0.filter"]["out"] == 3
    assert metrics["1.map"]["in"] == 3
    assert metrics["2.emit"]["out"] == 3
    for counters in metrics.values():
        assert set(counters) >= {"in", "out", "dropped", "errors", "latency", "latency_max"}
        assert counters["latency"] >= 0


async def test_state_that_does_not_fit_is_a_clear_error_never_a_reset() -> None:
    flow = Flow().window(Tumbling(10)).aggregate(Agg.count())
    p = Pipeline("vol", flow)
    await p.process([rec(1, 1.0)], 0.0)
    good = p.snapshot()

    with pytest.raises(PipelineStateError, match="not decodable"):
        p.restore(b"\x00garbage")
    with pytest.raises(PipelineStateError, match=r"not a herald\.pipeline\.state"):
        p.restore(b"[1, 2]")
    document = orjson.loads(good)
    with pytest.raises(PipelineStateError, match="version 99"):
        p.restore(orjson.dumps({**document, "version": 99}))
    with pytest.raises(PipelineStateError, match="belongs to pipeline 'other'"):
        p.restore(orjson.dumps({**document, "pipeline": "other"}))
    with pytest.raises(PipelineStateError, match="saved by other operators"):
        Pipeline(
            "vol", Flow().map(lambda e: e).window(Tumbling(10)).aggregate(Agg.count())
        ).restore(good)
    broken = {**document, "state": {"watermark": 0.0, "now": 1.0, "operators": {"0.window": 7}}}
    with pytest.raises(PipelineStateError, match="does not fit"):
        p.restore(orjson.dumps(broken))

    # The failed restores left nothing half-applied: the good state still gives its count.
    fresh = Pipeline("vol", flow)
    fresh.restore(good)
    out = await fresh.process([], 10.0)
    assert values(out) == [{"key": "", "start": 0.0, "end": 10.0, "value": 1}]


async def test_state_that_is_not_json_is_refused_at_snapshot() -> None:
    p = Pipeline("p", Flow().stateful(lambda e: "k", lambda s, e: ({1, 2}, None)))
    await p.process([rec(1, 1.0)], None)
    with pytest.raises(PipelineStateError, match="not JSON-encodable"):
        p.snapshot()


def test_public_names_are_sorted() -> None:
    import herald.pipeline as pipeline

    assert list(pipeline.__all__) == sorted(pipeline.__all__)
    for name in pipeline.__all__:
        assert hasattr(pipeline, name)
