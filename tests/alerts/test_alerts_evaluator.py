"""The evaluator through the alerts pipeline, with no Redis: records and watermarks in,
notified transitions out. Each test drives windows of 60 s from T0 by hand."""

from __future__ import annotations

from typing import Any

from herald.alerts.model import parse_rule
from herald.alerts.pipeline import AlertsPipeline, RuleBook, encode
from herald.pipeline.core import Output, Record

T0 = 1_700_000_040.0 - 1_700_000_040.0 % 60


def rule(**kw: Any) -> dict[str, Any]:
    body = {"id": "r", "type": "volume", "condition": "above", "threshold": 3, **kw}
    return parse_rule(body, now="2026-01-01T00:00:00.000Z")


class Run:
    def __init__(self, *rules: dict[str, Any], silences: list[dict[str, Any]] | None = None):
        self.book = RuleBook.fixed(list(rules), silences or [])
        self.p = AlertsPipeline(self.book, publish=False)
        self.n = 0
        self.outputs: list[Output] = []

    def item(self, at: float, *, sid: str = "s1", text: str = "hi", **extra: Any) -> Record:
        self.n += 1
        tweet = {"id": str(self.n), "text": text, "timestamp": at, **extra}
        event = {"type": "stream:tweet:new", "streamId": sid, "platform": "x", "tweet": tweet}
        return Record(f"{self.n}-0", event, at)

    async def step(self, records: list[Record], watermark: float | None) -> list[str]:
        out = await self.p.process(records, watermark)
        self.outputs.extend(out)
        return [o.name for o in out]

    async def window(self, i: int, count: int, **kw: Any) -> list[str]:
        """``count`` items in window ``i``, then the watermark at its end."""
        records = [self.item(T0 + i * 60 + j, **kw) for j in range(count)]
        return await self.step(records, T0 + (i + 1) * 60)

    def status(self, rid: str = "r") -> dict[str, Any]:
        return self.p.evaluator.status(rid)


async def test_no_watermark_no_evaluation_however_many_items() -> None:
    run = Run(rule(condition="below", threshold=100))
    assert await run.step([run.item(T0 + j) for j in range(5)], None) == []
    assert await run.step([], None) == []
    assert run.status()["lastEvaluatedAt"] is None, "a stalled input evaluates nothing"
    assert await run.step([], T0 + 60) == ["firing"]  # 5 < 100 once the window closed


async def test_sentiment_mean_of_scored_items_and_nodata_keeps_the_state() -> None:
    run = Run(rule(type="sentiment", condition="below", threshold=-0.2, minSamples=3))
    neg = {"sentiment": {"compound": -0.6, "label": "negative"}}
    records = [run.item(T0 + j, **neg) for j in range(3)] + [run.item(T0 + 5)]  # one unscored
    assert await run.step(records, T0 + 60) == ["firing"]
    assert run.outputs[-1].data["alert"]["value"] == -0.6
    # two scored items only: NoData, still firing, nothing notified
    few = [run.item(T0 + 60 + j, sentiment={"compound": 0.9, "label": "positive"}) for j in (0, 1)]
    assert await run.step(few, T0 + 120) == []
    assert run.status()["state"] == "firing"
    assert await run.window(2, 0) == []  # no data at all: still firing
    pos = [
        run.item(T0 + 180 + j, sentiment={"compound": 0.5, "label": "positive"}) for j in range(3)
    ]
    assert await run.step(pos, T0 + 240) == ["resolved"]


async def test_a_quiet_input_with_a_moving_watermark_is_a_real_zero() -> None:
    run = Run(rule(condition="below", threshold=1, **{"for": 120}))
    assert await run.window(0, 2) == []
    assert await run.window(1, 0) == []  # pending
    assert await run.window(2, 0) == []
    assert await run.window(3, 0) == ["firing"]
    assert run.status()["state"] == "firing"


async def test_keyword_rules_fire_per_item_and_resolve_after_keep_firing_for() -> None:
    run = Run(rule(type="keyword", condition="contains", threshold="Tesla", keepFiringFor=120))
    records = [
        run.item(T0 + 1, text="tesla stock"),
        run.item(T0 + 2, text="nothing"),
        run.item(T0 + 3, text="TESLA again", sid="s2"),
    ]
    assert await run.step(records, T0 + 60) == ["firing", "firing"]
    first, second = run.outputs
    assert first.data["alert"]["fingerprint"] != second.data["alert"]["fingerprint"]
    assert first.data["alert"]["labels"]["item"] == "1"
    assert second.data["alert"]["labels"]["streamId"] == "s2"
    assert await run.step([], T0 + 122) == ["resolved"]  # item 1: T0+1+120
    assert await run.step([], T0 + 124) == ["resolved"]
    assert run.outputs[2].data["alert"]["endsAt"].startswith("2023-11-14T22:16:01")
    assert run.status()["state"] == "normal"


async def test_group_by_stream_keeps_one_alert_per_stream() -> None:
    run = Run(rule(groupBy=["streamId"]))
    records = [run.item(T0 + j, sid="loud") for j in range(5)]
    records += [run.item(T0 + 10 + j, sid="calm") for j in range(2)]
    assert await run.step(records, T0 + 60) == ["firing"]
    assert run.outputs[0].data["alert"]["labels"]["streamId"] == "loud"
    assert run.status()["instances"] == 2


async def test_scope_streams_platforms_keywords() -> None:
    run = Run(rule(scope={"streams": ["s1"], "keywords": ["tesla"]}, threshold=1))
    records = [
        run.item(T0 + 1, text="tesla 1"),
        run.item(T0 + 2, text="tesla 2", sid="other"),
        run.item(T0 + 3, text="no match"),
    ]
    assert await run.step(records, T0 + 60) == []
    assert run.p.evaluator.state["rules"]["r"]["inst"] and run.status()["value"] == 1.0


async def test_engagement_sums_the_deltas_of_the_metric() -> None:
    run = Run(rule(type="engagement", threshold=100, metric="likes"))

    def metrics(n: int, likes: int, at: float) -> Record:
        delta = {"likes": likes, "retweets": 500, "replies": 0, "quotes": 0}
        event = {
            "type": "stream:tweet:metrics",
            "streamId": "s1",
            "platform": "x",
            "tweet": {"id": "t1", "url": "u", "author": "a"},
            "metrics": {},
            "previous": {},
            "delta": delta,
            "detectedAt": at,
        }
        return Record(f"m{n}-0", event, at)

    assert await run.step([metrics(1, 60, T0 + 1), metrics(2, 30, T0 + 2)], T0 + 60) == []
    assert run.status()["value"] == 90.0, "likes only, not the retweets"
    assert await run.step([metrics(3, 101, T0 + 61)], T0 + 120) == ["firing"]


async def test_relative_rule_fires_on_a_spike_over_its_baseline_not_on_its_noise() -> None:
    run = Run(rule(threshold=5, baseline={"k": 3, "minWindows": 12}))
    for i in range(20):
        assert await run.window(i, 10 + (i % 3) - 1) == [], f"window {i}: 9..11 is the norm"
    assert await run.window(20, 12) == [], "12 is within mean + 3 sigma of 9..11"
    assert await run.window(21, 30) == ["firing"]
    threshold = run.outputs[0].data["alert"]["threshold"]
    assert 12 < threshold < 30


async def test_a_silence_mutes_the_firing_and_its_resolve_not_the_state() -> None:
    silence = {
        "id": "s",
        "matchers": [{"name": "channel", "value": "al.*", "isRegex": True}],
        "startsAt": T0,
        "endsAt": T0 + 90,
    }
    run = Run(rule(), silences=[silence])
    assert await run.window(0, 5) == []
    assert run.status()["state"] == "firing"
    assert await run.window(1, 0) == []  # resolves, unnotified
    assert await run.window(2, 5) == ["firing"]  # the silence ended at T0+90


async def test_a_stream_stopped_after_errors_holds_its_rules_in_error() -> None:
    run = Run(rule(condition="below", threshold=1, scope={"streams": ["s1"]}))
    assert await run.window(0, 3) == []
    error = {"type": "stream:error", "streamId": "s1", "platform": "x", "error": "x"}
    stopped = {"type": "stream:stopped", "streamId": "s1", "platform": "x", "reason": "after 10"}
    records = [Record("e-1", error, T0 + 61), Record("e-2", stopped, T0 + 62)]
    assert await run.step(records, T0 + 120) == []
    assert await run.step([], T0 + 600) == [], "no data since it stopped: no false drop"
    assert run.status()["state"] == "error" and run.status()["errorStreams"] == ["s1"]
    started = {"type": "stream:started", "streamId": "s1", "platform": "x"}
    assert await run.step([Record("e-3", started, T0 + 601)], T0 + 660) == ["firing"]


async def test_a_retried_batch_gives_the_same_events() -> None:
    run = Run(rule(**{"for": 60}))
    await run.window(0, 5)
    snapshot = run.p.snapshot()
    batch = [run.item(T0 + 60 + j) for j in range(5)]
    first = await run.p.process(batch, T0 + 120)
    again = AlertsPipeline(RuleBook.fixed(run.book.rules, []), publish=False)
    again.restore(snapshot)
    second = await again.process(batch, T0 + 120)
    assert [o.key for o in first] == [o.key for o in second] and len(first) == 1
    assert encode(first[0]).event_id == encode(second[0]).event_id
    assert encode(first[0]).event_id.startswith("alert.firing:")


async def test_changing_a_rule_resolves_its_notified_alert_and_starts_over() -> None:
    run = Run(rule())
    assert await run.window(0, 5) == ["firing"]
    run.book.rules = [rule(threshold=50)]
    run.book.version += 1
    assert await run.window(1, 5) == ["resolved"]
    run.book.rules = []
    run.book.version += 1
    assert await run.window(2, 5) == []
    assert run.p.evaluator.state["rules"] == {}


async def test_late_items_are_counted_and_change_nothing() -> None:
    run = Run(rule())
    assert await run.window(0, 1) == []
    assert await run.step([run.item(T0 + j) for j in range(5)], T0 + 120) == []
    assert run.p.evaluator.state["late"] == 5


async def test_a_month_of_quiet_is_evaluated_without_a_window_per_minute() -> None:
    run = Run(rule(condition="below", threshold=1, **{"for": 300}))
    assert await run.window(0, 2) == []
    month = 30 * 86_400
    assert await run.step([], T0 + month) == ["firing"]
    assert run.status()["lastEvaluatedAt"] is not None
    assert await run.step([run.item(T0 + month + j) for j in range(3)], T0 + month + 60) == [
        "resolved"
    ]


async def test_one_jump_of_the_watermark_gives_what_window_by_window_gives() -> None:
    """A dry run moves the watermark in big steps, the live run a window at a time: a long
    quiet stretch must come out the same (states, times, the baseline)."""
    rules = [
        rule(id="low", condition="below", threshold=1, **{"for": 300}),
        rule(id="spike", threshold=2, baseline={"k": 2, "minWindows": 3}),
        rule(id="kw", type="keyword", condition="contains", threshold="boom", keepFiringFor=600),
    ]
    bursts = {0: 4, 1: 3, 2: 5, 3: 4, 4000: 30, 4001: 2, 9000: 6}

    def records(run: Run, i: int) -> list[Record]:
        return [
            run.item(T0 + i * 60 + j, text="boom" if j == 0 else "x")
            for j in range(bursts.get(i, 0))
        ]

    async def play(step: int) -> list[tuple[str, str, str, float]]:
        run = Run(*rules)
        seen = []
        for i in range(0, 9002, step):
            batch = [r for k in range(i, min(i + step, 9002)) for r in records(run, k)]
            await run.p.process(batch, T0 + min(i + step, 9002) * 60)
            seen += [
                (c.rule["id"], c.transition.previous, c.transition.state, c.transition.at)
                for c in run.p.transitions
            ]
        base = run.p.evaluator.state["rules"]["spike"]["inst"]
        seen.sort(key=lambda t: (t[3], t[0]))  # across rules, order within a batch is free
        seen.append(
            (
                "base",
                "",
                "",
                float(sum(b[0] for i in base.values() for b in i.get("base", {}).values())),
            )
        )
        return seen

    window_by_window = await play(1)
    assert any(t[2] == "firing" for t in window_by_window)
    assert await play(9002) == window_by_window
    assert await play(777) == window_by_window
