"""fork (every branch sees every value; outputs merged, tagged) and join (by key, within a
window)."""

from __future__ import annotations

from herald.pipeline import Agg, Flow, Pipeline, Tumbling
from tests.pipeline.pipeline_support import keys, rec, values


async def test_fork_runs_each_branch_and_merges_with_distinct_keys() -> None:
    flow = Flow().fork(
        urgent=lambda f: f.filter(lambda e: e["n"] > 2).map(lambda e: {"urgent": e["n"]}),
        all=lambda f: f.map(lambda e: {"n": e["n"]}),
    )
    p = Pipeline("f", flow)
    out = await p.process([rec(i, float(i), n=i) for i in range(2, 5)], None)
    assert values(out) == [{"n": 2}, {"urgent": 3}, {"n": 3}, {"urgent": 4}, {"n": 4}]
    assert keys(out)[:3] == ["f:2-0/all", "f:3-0/urgent", "f:3-0/all"]
    assert len(set(keys(out))) == 5
    assert set(p.metrics()) >= {"0.fork", "0.fork/urgent/0.filter", "0.fork/all/0.map"}


async def test_a_branch_can_emit_its_own_output_and_hold_windows() -> None:
    flow = Flow().fork(
        alerts=lambda f: f.filter(lambda e: e["n"] > 3).emit("alert"),
        volume=lambda f: f.window(Tumbling(10)).aggregate(Agg.count()),
    )
    p = Pipeline("f", flow, output="volume")
    out = await p.process([rec(i, float(i), n=i) for i in range(6)], 10.0)
    assert [(o.name, o.key) for o in out] == [
        ("alert", "alert:4-0/alerts"),
        ("alert", "alert:5-0/alerts"),
        ("volume", "volume:0.fork/volume/0.window[0.000,10.000)"),
    ]
    assert out[-1].data["value"] == 6


async def test_join_by_key_within_a_window() -> None:
    flow = (
        Flow()
        .fork(
            tweets=lambda f: f.filter(lambda e: e["type"] == "stream:tweet:new"),
            follows=lambda f: f.filter(lambda e: e["type"] == "stream:follower:new"),
        )
        .map(lambda e: e["u"])
        .join(key=lambda u: u, window=Tumbling(10))
    )
    p = Pipeline("j", flow)
    batch = [
        rec(1, 1.0, u="ann"),
        rec(2, 2.0, u="bob"),
        rec(3, 3.0, u="ann", type="stream:follower:new"),
        rec(4, 12.0, u="bob", type="stream:follower:new"),  # next window: no match for bob
    ]
    out = await p.process(batch, 20.0)
    assert values(out) == [
        {"key": "ann", "start": 0.0, "end": 10.0, "value": {"tweets": ["ann"], "follows": ["ann"]}}
    ]

    outer = Pipeline(
        "o",
        Flow()
        .fork(
            a=lambda f: f.filter(lambda e: e["n"] < 2), b=lambda f: f.filter(lambda e: e["n"] > 0)
        )
        .map(lambda e: e["n"])
        .join(key=lambda n: n % 2, window=Tumbling(10), how="outer"),
    )
    out = await outer.process([rec(i, float(i), n=i) for i in range(3)], 10.0)
    assert [o.data["value"] for o in out] == [{"a": [0], "b": [2]}, {"a": [1], "b": [1]}]


def test_join_needs_a_fork() -> None:
    import pytest

    with pytest.raises(ValueError, match="follows fork"):
        Flow().join(key=lambda v: v, window=Tumbling(1))
