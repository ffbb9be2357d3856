"""Watermarks from the streams' state in Redis: the last successful poll minus the skew,
the minimum over the inputs; a stream in backoff freezes it; paused streams hold nothing."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from herald.pipeline import Flow, Pipeline, Record
from herald.pipeline.runtime import PipelineSpec
from herald.pipeline.runtime.watermark import Watermarks
from herald.store.keys import Keys
from herald.store.streams import StreamRecord, StreamStore

pytestmark = pytest.mark.timeout(30)


class Ticks:
    """A monotonic clock the test moves (the watermark re-reads states every 0.25 s)."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1.0  # every read is a fresh one
        return self.t


def spec(**kw: object) -> PipelineSpec:
    return PipelineSpec(name="w", build=lambda: Pipeline("w", Flow()), skew=10, **kw)  # type: ignore[arg-type]


async def streams(redis: Redis, keys: Keys) -> StreamStore:
    store = StreamStore(redis, keys, ttl=3600)
    for sid in ("a", "b", "c"):
        await store.create(StreamRecord(sid, "tweet", sid, 60.0, 1.0))
    return store


async def test_min_over_inputs_frozen_in_backoff_paused_ignored(
    external_redis: Redis, keys: Keys
) -> None:
    store = await streams(external_redis, keys)
    marks = Watermarks(spec(), store, monotonic=Ticks())
    assert await marks.current([]) is None  # never polled: holds everything back
    await store.set_state("a", {"lastPoll": "1000.0"})
    await store.set_state("b", {"lastPoll": "1200.0"})
    await store.set_state("c", {"lastPoll": "1100.0"})
    assert await marks.current([]) == 990.0  # min(1000, 1200, 1100) - skew
    # a fails: in backoff, its mark stays where it last succeeded, though lastPoll moves
    await store.set_state("a", {"lastPoll": "1500.0", "consecutiveErrors": 2, "lastError": "x"})
    await store.set_state("b", {"lastPoll": "1600.0"})
    await store.set_state("c", {"lastPoll": "1700.0"})
    assert await marks.current([]) == 990.0
    # rate limited (no error count, but the last poll failed): frozen too
    await store.set_state(
        "a", {"lastPoll": "1800.0", "consecutiveErrors": 0, "lastError": "rate limited"}
    )
    assert await marks.current([]) == 990.0
    # a succeeds again: it moves; then a is paused: it holds nothing back any more
    await store.set_state("a", {"lastPoll": "1650.0", "lastError": ""})
    assert await marks.current([]) == 1590.0
    await store.set_state("a", {"status": "paused"})
    assert await marks.current([]) == 1590.0  # b: 1600 - 10
    only_c = Watermarks(spec(streams=frozenset({"c"})), store, monotonic=Ticks())
    assert await only_c.current([]) == 1690.0


async def test_a_stalled_input_keeps_windows_open(external_redis: Redis, keys: Keys) -> None:
    from herald.pipeline import Agg, Tumbling

    store = await streams(external_redis, keys)
    flow = Flow().window(Tumbling(60)).aggregate(Agg.count())
    pipeline = Pipeline("w", flow, output="count")
    marks = Watermarks(spec(), store, monotonic=Ticks())
    for sid in ("a", "b", "c"):
        await store.set_state(sid, {"lastPoll": "50.0"})
    records = [
        Record(f"{n}-0", {"type": "stream:tweet:new", "streamId": "a"}, float(n))
        for n in range(1, 40)
    ]
    assert await pipeline.process(records, await marks.current(records)) == []
    # b goes into backoff; a and c poll on: the window [0, 60) does not close
    await store.set_state("b", {"lastPoll": "200.0", "consecutiveErrors": 1, "lastError": "x"})
    for sid in ("a", "c"):
        await store.set_state(sid, {"lastPoll": "200.0"})
    assert await pipeline.process([], await marks.current([])) == []
    # b recovers: the window closes with every item in it, not zero
    await store.set_state("b", {"lastPoll": "200.0", "consecutiveErrors": 0, "lastError": ""})
    (out,) = await pipeline.process([], await marks.current([]))
    assert out.data["value"] == 39


class WholeRecordsRefused(StreamStore):
    """A store whose whole-record reads fail: a refresh must read only what a mark needs."""

    async def all(self) -> list[StreamRecord]:
        raise AssertionError("a watermark refresh read every stream's whole record")

    async def get(self, stream_id: str) -> StreamRecord | None:
        raise AssertionError("a watermark refresh read a stream's whole record")


async def test_a_refresh_reads_only_the_fields_a_mark_needs(
    external_redis: Redis, keys: Keys
) -> None:
    store = WholeRecordsRefused(external_redis, keys, ttl=3600)
    for sid in ("a", "b"):
        await store.create(StreamRecord(sid, "tweet", sid, 60.0, 1.0, options={"k": ["v"]}))
    await store.create(StreamRecord("f", "rss:feed", "https://a.example/rss", 60.0, 1.0))
    await store.set_state("a", {"lastPoll": "1000.0", "events:stream:tweet:new": 4})
    await store.set_state("b", {"lastPoll": "900.0", "consecutiveErrors": 1, "lastError": "x"})
    await store.set_state("f", {"lastPoll": "950.0"})
    marks = Watermarks(spec(), store, monotonic=Ticks())
    assert await marks.current([]) is None  # b never succeeded: it holds the whole back
    assert marks.marks is not None
    assert marks.marks.by_stream == {"a": 990.0, "b": float("-inf"), "f": 940.0}
    assert marks.marks.platform == {"a": "x", "b": "x", "f": "rss"}
    assert marks.marks.scoped(frozenset(), frozenset({"rss"})) == 940.0
    await store.set_state("b", {"lastPoll": "1100.0", "consecutiveErrors": 0, "lastError": ""})
    assert await marks.current([]) == 940.0


async def test_mark_states_match_the_records_and_skip_expired_streams(
    external_redis: Redis, keys: Keys
) -> None:
    store = StreamStore(external_redis, keys, ttl=3600)
    for i in range(2500):  # more than one script call's worth
        await store.create(StreamRecord(f"s{i}", "tweet", f"s{i}", 60.0, 1.0))
    await store.set_state("s7", {"lastPoll": "12.5", "consecutiveErrors": 3, "lastError": "e"})
    await store.set_state("s2400", {"status": "paused", "lastPoll": "8.0"})
    await external_redis.delete(keys.meta("s9"), keys.state("s9"))  # expired
    types: dict[str, str] = {}
    states = {s.id: s for s in await store.mark_states(types=types)}
    assert len(states) == 2499 and "s9" not in states
    for sid in ("s7", "s2400", "s0"):
        record = await store.get(sid)
        assert record is not None
        got = states[sid]
        assert (got.type, got.status, got.last_poll, got.last_error, got.consecutive_errors) == (
            record.type,
            record.status,
            record.last_poll,
            record.last_error,
            record.consecutive_errors,
        )
    assert len(types) == 2499, "types are cached for the next refresh"
    again = await store.mark_states(["s7", "s9"], types=types)
    assert [s.id for s in again] == ["s7"]
