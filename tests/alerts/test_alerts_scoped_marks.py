"""Each rule's windows close at the watermark of the streams in its scope: a broken RSS feed
freezes the rules that read it (and those that read everything), never an X rule. A
``stream:gap`` makes the window it falls in NoData (reason ``gap``), never a false "below"."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from alerts_support import T0, World, stamp, stream_error, tweet, world
from redis.asyncio import Redis

from herald.alerts.evaluator import Evaluator
from herald.alerts.model import iso, parse_rule
from herald.events import Event, EventType
from herald.pipeline.core import Record
from herald.pipeline.marks import NEVER, StreamMarks
from herald.store.keys import Keys
from herald.store.streams import StreamRecord
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(90)


def rule(rid: str, **scope: list[str]) -> dict[str, Any]:
    return {
        "id": rid,
        "type": "volume",
        "condition": "above",
        "threshold": 2,
        "window": 60,
        "for": 0,
        "channel": "ops",
        **({"scope": scope} if scope else {}),
    }


async def evaluated(w: World, rid: str, i: int) -> bool:
    """The status of ``rid`` says window ``i`` was evaluated."""
    return (await w.status(rid))["lastEvaluatedAt"] == iso(T0 + (i + 1) * 60)


async def test_a_stalled_feed_freezes_only_the_rules_that_read_it(
    external_redis: Redis, keys: Keys
) -> None:
    async with world(external_redis, keys) as w:
        await w.add_stream("x1")
        await w.streams.create(StreamRecord("feed1", "rss:feed", "https://a.example/rss", 60, 1))
        for body in (
            rule("by-stream", streams=["x1"]),
            rule("by-platform", platforms=["x"]),
            rule("the-feed", platforms=["rss"]),
            rule("everything"),
        ):
            await w.service.create_rule(body)
        host = w.host()
        await host.start()
        try:
            # window 0: items on both, both polled past it: every rule evaluates it
            await w.log.append("x1", [tweet("x1", j, T0 + j) for j in range(3)])
            await w.log.append("feed1", [rss("feed1", j, T0 + j) for j in range(3)])
            for sid in ("x1", "feed1"):
                await w.polled(sid, T0 + 60)
            await wait_until(lambda: _all_at(w, 0), 30, what="every rule evaluated window 0")
            # the feed breaks; X polls on through three windows with items in each
            await w.streams.set_state(
                "feed1", {"lastPoll": repr(T0 + 90), "consecutiveErrors": 1, "lastError": "x"}
            )
            await w.log.append(
                "feed1", [replace(stream_error("feed1", 1, T0 + 90), platform="rss")]
            )
            for i in (1, 2, 3):
                items = [tweet("x1", 10 * i + j, T0 + i * 60 + j) for j in range(3)]
                await w.log.append("x1", items)
                await w.polled("x1", T0 + (i + 1) * 60)
            await wait_until(lambda: evaluated(w, "by-stream", 3), 30, what="the X stream rule")
            await wait_until(lambda: evaluated(w, "by-platform", 3), 30, what="the X rule")
            assert (await w.status("by-stream"))["state"] == "firing"
            assert (await w.status("by-platform"))["state"] == "firing"
            # the rules that read the feed stay where its last good poll left them
            for rid in ("the-feed", "everything"):
                status = await w.status(rid)
                assert status["lastEvaluatedAt"] == iso(T0 + 60), rid
                assert status["state"] == "error", rid
            # the feed recovers: the others move on to where both have come
            await w.polled("feed1", T0 + 240)
            await wait_until(lambda: evaluated(w, "everything", 3), 30, what="the catch-up")
            await wait_until(lambda: evaluated(w, "the-feed", 3), 30, what="the feed rule")
            assert (await w.status("everything"))["state"] == "firing"
            assert (await w.status("the-feed"))["state"] != "error"
        finally:
            await host.stop()


async def _all_at(w: World, i: int) -> bool:
    for rid in ("by-stream", "by-platform", "the-feed", "everything"):
        if not await evaluated(w, rid, i):
            return False
    return True


def rss(stream: str, n: int, at: float) -> Event:
    """A feed entry of ``stream`` (platform rss) at ``at``."""
    return Event(
        EventType.ENTRY_NEW,
        stream,
        "https://a.example/rss",
        f"e{n}",
        {"entry": {"id": f"e{n}", "title": f"entry {n}", "published": stamp(at)}},
        platform="rss",
    )


# --- the evaluator on its own: marks per scope, gaps ---------------------------------


def _record(n: int, event: Event) -> Record:
    body = orjson_loads(event.encode())
    return Record.of(f"{n}-0", body)


def orjson_loads(raw: bytes) -> dict[str, Any]:
    import orjson

    return dict(orjson.loads(raw))


def gap(stream: str, at: float) -> Event:
    return Event(
        EventType.GAP,
        stream,
        f"user{stream}",
        f"g{at}",
        {"reason": "sequence jump", "missed": 4},
        detected_at=stamp(at),
        platform="x",
    )


def test_scoped_marks_pick_the_streams_of_each_scope() -> None:
    marks = StreamMarks.of(
        {"x1": 500.0, "x2": 400.0, "feed1": 100.0, "new": NEVER},
        {"x1": "x", "x2": "x", "feed1": "rss", "new": "mastodon"},
    )
    assert marks.low is None  # a stream that never polled holds the whole back
    assert marks.scoped(frozenset({"x1"}), frozenset()) == 500.0
    assert marks.scoped(frozenset({"x1", "x2"}), frozenset()) == 400.0
    assert marks.scoped(frozenset(), frozenset({"x"})) == 400.0
    assert marks.scoped(frozenset(), frozenset({"rss", "x"})) == 100.0
    assert marks.scoped(frozenset(), frozenset({"mastodon"})) is None
    assert marks.scoped(frozenset({"x1", "feed1"}), frozenset({"x"})) == 500.0
    assert marks.scoped(frozenset(), frozenset()) is None
    # a scope with no active stream (paused, gone) follows the whole
    assert marks.scoped(frozenset({"paused"}), frozenset()) is None
    both = StreamMarks.of({"x1": 500.0, "feed1": 100.0}, {"x1": "x", "feed1": "rss"})
    assert both.scoped(frozenset({"paused"}), frozenset()) == 100.0


def _volume(condition: str, threshold: float, **extra: Any) -> dict[str, Any]:
    body = {
        "id": f"v-{condition}",
        "type": "volume",
        "condition": condition,
        "threshold": threshold,
        "window": 60,
        "for": 0,
        "channel": "ops",
        **extra,
    }
    return parse_rule(body, now="2026-01-01T00:00:00.000Z")


def test_a_gap_makes_its_window_nodata_never_a_false_below() -> None:
    below = _volume("below", 3, scope={"streams": ["x1"]})
    ev = Evaluator()
    ev.set_rules([below], [], T0)
    ev.advance(T0)
    n = 0

    def feed(events: list[Event]) -> None:
        nonlocal n
        records = []
        for event in events:
            n += 1
            records.append(_record(n, event))
        ev.ingest(records)

    # window 0: 5 items, normal; window 1: 1 item and a gap (items were missed)
    feed([tweet("x1", i, T0 + i) for i in range(5)])
    ev.advance(T0 + 60)
    assert ev.status(below["id"])["state"] == "normal"
    feed([tweet("x1", 10, T0 + 61), gap("x1", T0 + 70)])
    ev.advance(T0 + 120)
    status = ev.status(below["id"])
    assert status["state"] == "nodata" and status["reason"] == "gap"
    assert [c.transition.state for c in ev.changes] == [], "no false 'below' on a gap"
    # the next complete window with 1 item is a real "below"
    feed([tweet("x1", 11, T0 + 121)])
    ev.advance(T0 + 180)
    assert [c.transition.state for c in ev.changes] == ["firing"]


def test_a_gap_never_resolves_a_firing_rule() -> None:
    above = _volume("above", 2, scope={"streams": ["x1"]})
    ev = Evaluator()
    ev.set_rules([above], [], T0)
    ev.advance(T0)
    ev.ingest([_record(i + 1, tweet("x1", i, T0 + i)) for i in range(5)])
    ev.advance(T0 + 60)
    assert [c.transition.state for c in ev.changes] == ["firing"]
    ev.changes = []
    ev.ingest([_record(10, gap("x1", T0 + 90))])  # window 1 lost its items
    ev.advance(T0 + 120)
    assert ev.changes == [] and ev.status(above["id"])["state"] == "firing"


def test_a_gap_of_another_stream_leaves_a_rule_alone() -> None:
    above = _volume("above", 2, scope={"streams": ["x1"]})
    ev = Evaluator()
    ev.set_rules([above], [], T0)
    ev.advance(T0)
    ev.ingest([_record(1, gap("x2", T0 + 30))])
    ev.ingest([_record(i + 2, tweet("x1", i, T0 + i)) for i in range(5)])
    ev.advance(T0 + 60)
    assert [c.transition.state for c in ev.changes] == ["firing"]


def test_each_rule_advances_to_the_mark_of_its_scope() -> None:
    x_rule = _volume("above", 2, scope={"platforms": ["x"]})
    feed_rule = {**_volume("above", 2, scope={"platforms": ["rss"]}), "id": "feed"}
    ev = Evaluator()
    ev.set_rules([x_rule, feed_rule], [], T0)
    start = StreamMarks.of({"x1": T0, "feed1": T0}, {"x1": "x", "feed1": "rss"})
    ev.advance(T0, start)
    ev.ingest([_record(i + 1, tweet("x1", i, T0 + i)) for i in range(5)])
    marks = StreamMarks.of({"x1": T0 + 60, "feed1": T0 + 10}, {"x1": "x", "feed1": "rss"})
    ev.advance(T0 + 10, marks)
    assert [c.rule["id"] for c in ev.changes] == [x_rule["id"]]
    assert ev.state["rules"]["feed"]["to"] == T0, "the feed rule did not move"
    assert ev.status(x_rule["id"])["lastEvaluatedAt"] == iso(T0 + 60)
