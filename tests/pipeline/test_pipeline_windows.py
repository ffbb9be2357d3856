"""Windows by event time, closed by the watermark; late items; a stalled input."""

from __future__ import annotations

import pytest

from herald.pipeline import Agg, Flow, Pipeline, Session, Sliding, Tumbling
from tests.pipeline.pipeline_support import keys, rec, run_batches, values


def counts(outputs: list) -> list[tuple[str, float, float, object]]:  # type: ignore[type-arg]
    return [(o.data["key"], o.data["start"], o.data["end"], o.data["value"]) for o in outputs]


async def test_tumbling_windows_close_only_when_the_watermark_passes_their_end() -> None:
    p = Pipeline(
        "v", Flow().window(Tumbling(60), key=lambda e: e["streamId"]).aggregate(Agg.count())
    )
    # Items of 0..59 and 60..119, watermark inside the first window: nothing closes.
    assert await p.process([rec(1, 10.0), rec(2, 59.9), rec(3, 60.0)], 59.0) == []
    # The watermark reaches 60: [0, 60) closes with its two items; [60, 120) stays open.
    out = await p.process([], 60.0)
    assert counts(out) == [("s1", 0.0, 60.0, 2)]
    assert out[0].time == 60.0
    # A closed window never emits again, however far the watermark moves.
    out = await p.process([rec(4, 61.0)], 500.0)
    assert counts(out) == [("s1", 60.0, 120.0, 2)]


async def test_a_stalled_input_freezes_windows_instead_of_reporting_zero() -> None:
    p = Pipeline("v", Flow().window(Tumbling(60)).aggregate(Agg.count()))
    await p.process([rec(i, float(i)) for i in range(10)], 5.0)
    # The input stalls (its stream is in backoff): no watermark progress for many batches.
    for _ in range(20):
        assert await p.process([], None) == []
        assert await p.process([], 5.0) == []  # a repeated watermark is no progress either
    # Nothing came out: no window was closed with a count of zero or a partial count.
    # When the input recovers, the items its first poll finds land in the open window.
    out = await p.process([rec(100 + i, 30.0 + i) for i in range(5)], 65.0)
    assert counts(out) == [("", 0.0, 60.0, 15)]


async def test_items_behind_the_watermark_go_to_the_late_output_and_change_nothing() -> None:
    p = Pipeline("v", Flow().window(Tumbling(10)).aggregate(Agg.sum(lambda e: e["n"])))
    out = await p.process([rec(1, 1.0, n=1), rec(2, 12.0, n=2)], 10.0)
    assert counts(out) == [("", 0.0, 10.0, 1)]
    # Event time 3 and 9.99 are behind the watermark (10): late, even though 9.99 < 10.
    out = await p.process([rec(3, 3.0, n=100), rec(4, 9.99, n=100), rec(5, 15.0, n=3)], 20.0)
    assert counts(out) == [("", 10.0, 20.0, 5)]
    assert [r.offset for r in p.late] == ["3-0", "4-0"]
    metrics = p.metrics()["0.window"]
    assert metrics["late"] == 2
    assert metrics["dropped"] == 2
    # Late items are reported with the batch they came in, not again.
    await p.process([], 30.0)
    assert p.late == []


async def test_records_of_a_batch_count_before_its_watermark_moves() -> None:
    """The poll that moves the watermark is the one that found these items."""
    p = Pipeline("v", Flow().window(Tumbling(10)).aggregate(Agg.count()))
    out = await p.process([rec(1, 5.0), rec(2, 9.0)], 100.0)
    assert counts(out) == [("", 0.0, 10.0, 2)]
    assert p.late == []


async def test_sliding_windows_hold_an_item_in_each_window_that_covers_it() -> None:
    p = Pipeline("v", Flow().window(Sliding(10, 5)).aggregate(Agg.collect(lambda e: e["n"])))
    out = await p.process([rec(1, 1.0, n=1), rec(2, 6.0, n=2), rec(3, 11.0, n=3)], 100.0)
    assert counts(out) == [
        ("", -5.0, 5.0, [1]),
        ("", 0.0, 10.0, [1, 2]),
        ("", 5.0, 15.0, [2, 3]),
        ("", 10.0, 20.0, [3]),
    ]
    assert len(set(keys(out))) == 4


async def test_session_windows_split_on_quiet_and_wait_for_the_watermark() -> None:
    flow = Flow().window(Session(gap=5), key=lambda e: e["u"]).aggregate(Agg.count())
    p = Pipeline("v", flow)
    batch = [rec(1, 0.0, u="a"), rec(2, 3.0, u="a"), rec(3, 20.0, u="a"), rec(4, 2.0, u="b")]
    # Watermark 7.5: a's first session ends at 8 (3 + 5), b's at 7.
    out = await p.process(batch, 7.5)
    assert counts(out) == [("b", 2.0, 7.0, 1)]
    # An item at 7.6 still falls into a's first session (inside its gap) and extends it.
    out = await p.process([rec(5, 7.6, u="a")], 13.0)
    assert counts(out) == [("a", 0.0, 12.6, 3)]
    out = await p.process([rec(6, 24.0, u="a")], 30.0)
    assert counts(out) == [("a", 20.0, 29.0, 2)]


async def test_session_gap_between_two_runs_is_filled_by_a_late_arrival() -> None:
    p = Pipeline("v", Flow().window(Session(gap=5)).aggregate(Agg.count()))
    await p.process([rec(1, 0.0), rec(2, 8.0)], 2.0)
    # 4.0 arrives before the watermark passed the first run's end (5): it bridges the runs.
    out = await p.process([rec(3, 4.0)], 50.0)
    assert counts(out) == [("", 0.0, 13.0, 3)]


@pytest.mark.parametrize(
    ("agg", "expected"),
    [
        (Agg.count(), 4),
        (Agg.sum(lambda e: e["n"]), 10),
        (Agg.avg(lambda e: e["n"]), 2.5),
        (Agg.min(lambda e: e["n"]), 1),
        (Agg.max(lambda e: e["n"]), 4),
        (Agg.collect(lambda e: e["n"]), [3, 1, 4, 2]),
        (Agg.fold(lambda: "", lambda acc, e: acc + str(e["n"]), lambda acc: acc[::-1]), "2413"),
    ],
)
async def test_aggregates(agg: object, expected: object) -> None:
    p = Pipeline("v", Flow().window(Tumbling(10)).aggregate(agg))  # type: ignore[arg-type]
    records = [rec(i, float(i), n=n) for i, n in enumerate([3, 1, 4, 2])]
    out = await p.process(records, 10.0)
    assert values(out) == [{"key": "", "start": 0.0, "end": 10.0, "value": expected}]


async def test_a_raising_key_or_aggregate_dead_letters_the_item_only() -> None:
    flow = Flow().window(Tumbling(10), key=lambda e: e["k"]).aggregate(Agg.sum(lambda e: e["n"]))
    p = Pipeline("v", flow)
    batch = [
        rec(1, 1.0, k="a", n=1),
        rec(2, 2.0, n=5),
        rec(3, 3.0, k="a", n="x"),
        rec(4, 4.0, k="a", n=2),
    ]
    out = await p.process(batch, 10.0)
    assert counts(out) == [("a", 0.0, 10.0, 3)]
    assert [d.origin for d in p.dead_letters] == ["2-0", "3-0"]
    assert p.dead_letters[0].error == "KeyError: 'k'"
    assert p.dead_letters[1].error.startswith("TypeError")


async def test_drain_closes_everything_at_the_end_of_a_bounded_input() -> None:
    p = Pipeline("v", Flow().window(Tumbling(10)).aggregate(Agg.count()))
    await run_batches(p, [([rec(1, 1.0), rec(2, 15.0)], 0.0)])
    out = await p.drain()
    assert counts(out) == [("", 0.0, 10.0, 1), ("", 10.0, 20.0, 1)]


def test_window_specs_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="size"):
        Tumbling(0)
    with pytest.raises(ValueError, match="step"):
        Sliding(5, 10)
    with pytest.raises(ValueError, match="gap"):
        Session(-1)


async def test_fill_empty_reports_quiet_windows_only_while_the_watermark_moves() -> None:
    flow = Flow().window(Tumbling(10), key=lambda e: e["k"], fill_empty=True).aggregate(Agg.count())
    p = Pipeline("v", flow)
    out = await p.process([rec(1, 1.0, k="a"), rec(2, 25.0, k="b")], 30.0)
    # a: 1 item in [0,10), then two quiet windows; b: first seen in [20,30).
    assert counts(out) == [
        ("a", 0.0, 10.0, 1),
        ("a", 10.0, 20.0, 0),
        ("a", 20.0, 30.0, 0),
        ("b", 20.0, 30.0, 1),
    ]
    # A stalled input: no watermark progress, no zeros, however many batches pass.
    for _ in range(5):
        assert await p.process([], None) == []
    out = await p.process([rec(3, 35.0, k="b")], 50.0)
    assert counts(out) == [
        ("a", 30.0, 40.0, 0),
        ("b", 30.0, 40.0, 1),
        ("a", 40.0, 50.0, 0),
        ("b", 40.0, 50.0, 0),
    ]


def test_fill_empty_is_for_tumbling_windows() -> None:
    with pytest.raises(ValueError, match="tumbling"):
        Flow().window(Sliding(10, 5), fill_empty=True).aggregate(Agg.count())


async def test_drain_with_fill_empty_stops_at_the_last_window_with_items() -> None:
    flow = Flow().window(Tumbling(10), key=lambda e: e["k"], fill_empty=True).aggregate(Agg.count())
    p = Pipeline("v", flow)
    await p.process([rec(1, 1.0, k="a"), rec(2, 25.0, k="b")], 0.0)
    out = await p.drain()
    assert counts(out) == [
        ("a", 0.0, 10.0, 1),
        ("a", 10.0, 20.0, 0),
        ("a", 20.0, 30.0, 0),
        ("b", 20.0, 30.0, 1),
    ]
