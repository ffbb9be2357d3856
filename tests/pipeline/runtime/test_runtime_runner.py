"""The runner on a real Redis: outputs appended once, state committed with the ack, dead
letters kept and replayable, a lease that fences a stale owner, lag and state errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import orjson
import pytest
from redis.asyncio import Redis

from herald.pipeline import Flow, Pipeline
from herald.pipeline.runtime import PipelineRunner, PipelineSpec, dry_run
from herald.pipeline.runtime.spec import output_event_id
from herald.store.keys import Keys
from herald.store.pipelines import Fenced, PipelineStore
from tests.pipeline.runtime import builders
from tests.pipeline.runtime.support import duplicates, fill, outputs
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


@contextlib.asynccontextmanager
async def running(runner: PipelineRunner, store: PipelineStore) -> AsyncIterator[PipelineRunner]:
    await store.declare(runner.name, runner.spec.declaration())
    await store.ensure_group(runner.name, runner.spec.start)
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        runner.stop()
        await asyncio.wait_for(task, 10)


async def committed_in(store: PipelineStore, name: str) -> int:
    return (await store.load(name)).counters["in"]


async def test_outputs_match_a_dry_run_and_are_appended_once(
    external_redis: Redis, keys: Keys, store: PipelineStore
) -> None:
    await fill(external_redis, keys, 600)
    spec = builders.exactly_once()
    runner = PipelineRunner(spec, store, None, batch_size=64, lease_ttl=2)
    async with running(runner, store):
        await wait_until(lambda: committed_in(store, "chaos"), 20, what="first commit")
        await wait_until(
            lambda: _eq(committed_in(store, "chaos"), 600), 30, what="all 600 tweets committed"
        )
    live = await outputs(external_redis, keys, "chaos")
    assert duplicates(live) == []
    expected, read = await dry_run(store, spec, "-", "+")
    assert read >= 600
    by_id = {output_event_id("chaos", o.key): dict(o.data) for o in expected}
    seen = [e for e in live if e["output"] == "seen"]
    assert len(seen) == 600
    assert all(by_id[e["eventId"]] == e["data"] for e in live)
    # every window the live run closed, the dry run closed the same way
    assert {e["eventId"] for e in live} <= set(by_id)
    assert max(e["data"]["seen"] for e in seen) == 200


async def _eq(value: object, want: int) -> bool:
    return await value == want  # type: ignore[misc]


async def test_a_lapsed_lease_is_not_renewed(store: PipelineStore) -> None:
    assert await store.acquire("p2", "a", 5)
    assert await store.renew("p2", "a", 5)
    await store.redis.delete(store.of("p2").lease)  # lapsed while "a" was stalled
    assert not await store.renew("p2", "a", 5)  # "a" must restore before it may own again
    assert await store.owner("p2") is None


async def test_a_stale_owner_can_neither_read_nor_commit(store: PipelineStore) -> None:
    await store.ensure_group("p1", "0")
    assert await store.acquire("p1", "a", 5)
    assert not await store.acquire("p1", "b", 5)
    await store.redis.delete(store.of("p1").lease)  # a's lease expired ...
    assert await store.acquire("p1", "b", 5)  # ... and b took over
    with pytest.raises(Fenced):
        await store.read("p1", "a", 10, pending=False)
    with pytest.raises(Fenced):
        await store.commit("p1", "a", blob=b"x", acks=[], outputs=[], dead=[], n_in=0, n_errors=0)
    assert (await store.load("p1")).blob is None


async def test_dead_letters_are_kept_counted_and_replayable(
    external_redis: Redis, keys: Keys, store: PipelineStore
) -> None:
    from herald.store.eventlog import EventLog
    from tests.pipeline.runtime.support import T0, tweet

    log = EventLog(external_redis, keys)
    await log.append(
        "s1", [tweet("s1", n, at=T0 + n, text="boom" if n % 5 == 0 else "ok") for n in range(20)]
    )
    spec = builders.failing()
    runner = PipelineRunner(spec, store, None, batch_size=8, lease_ttl=2)
    async with running(runner, store):
        await wait_until(lambda: _eq(committed_in(store, "failing"), 20), 20, what="20 in")
    state = await store.load("failing")
    assert state.counters["errors"] == 4 and state.counters["deadLetters"] == 4
    dead = await store.dead_letters("failing")
    assert sorted(d["event"]["tweet"]["id"] for d in dead) == ["0", "10", "15", "5"]
    assert all(d["error"].startswith("ValueError: boom") for d in dead)
    assert len([e for e in await outputs(external_redis, keys, "failing")]) == 16

    # replay: the dead letters go through the (now fixed) pipeline again, in order
    fixed = replace(
        spec,
        build=lambda: Pipeline(
            "failing", Flow().map(lambda e: {"id": e["tweet"]["id"]}), output="checked"
        ),
    )
    assert await store.requeue_dead("failing") == 4
    runner = PipelineRunner(fixed, store, None, batch_size=8, lease_ttl=2)
    async with running(runner, store):
        await wait_until(lambda: _eq(committed_in(store, "failing"), 24), 20, what="retries in")
    assert await store.dead_count("failing") == 0
    assert await external_redis.llen(store.of("failing").retry) == 0
    done = await outputs(external_redis, keys, "failing")
    assert sorted(int(e["data"]["id"]) for e in done) == list(range(20))
    assert duplicates(done) == []


async def test_undecodable_state_pauses_with_a_clear_error_and_is_kept(
    external_redis: Redis, keys: Keys, store: PipelineStore
) -> None:
    await fill(external_redis, keys, 10)
    spec = builders.exactly_once()
    await store.set_fields("chaos", {"state": "not a snapshot"})
    runner = PipelineRunner(spec, store, None, batch_size=8, lease_ttl=2)
    async with running(runner, store):
        await wait_until(lambda: _paused(store, "chaos"), 10, what="paused")
    state = await store.load("chaos")
    assert state.blob == b"not a snapshot"  # never reset
    raw = await store.raw_state("chaos")
    assert raw["error"].startswith("state: pipeline 'chaos': state is not decodable")
    errors = [
        orjson.loads(f[b"e"])
        for _, f in await external_redis.xrange(keys.events)
        if f[b"t"] == b"pipeline:error"
    ]
    assert len(errors) == 1 and errors[0]["error"]["kind"] == "state"
    assert state.counters["in"] == 0

    # the way out, on purpose: drop the state and read again from the start
    from herald.pipeline.runtime import PipelineControl

    control = PipelineControl(store, {"chaos": spec})
    answer = await control.replay("chaos", {"from": "0-0", "reset": True})
    assert answer["reset"] is True
    runner = PipelineRunner(spec, store, None, batch_size=8, lease_ttl=2)
    async with running(runner, store):
        await wait_until(lambda: _eq(committed_in(store, "chaos"), 10), 20, what="10 in")
    status = await control.status("chaos")
    assert status["status"] == "running" and status["error"] is None
    seen = [e for e in await outputs(external_redis, keys, "chaos") if e["output"] == "seen"]
    assert len(seen) == 10


async def _paused(store: PipelineStore, name: str) -> bool:
    return (await store.load(name)).paused


async def test_lagging_past_half_the_cap_raises_one_error(
    external_redis: Redis, keys: Keys, store: PipelineStore
) -> None:
    await fill(external_redis, keys, 300)
    spec = builders.exactly_once()
    await store.ensure_group("chaos", "0")
    await store.set_paused("chaos", True, "test")
    runner = PipelineRunner(spec, store, None, batch_size=8, lease_ttl=2, lag_limit=100)
    runner._stats_every = 0.0
    await runner._check_lag()
    await runner._check_lag()
    raw = await store.raw_state("chaos")
    assert raw["lagError"].startswith("more than 100 entries behind")
    assert int(raw["lag"]) >= 300  # the error event itself is one more entry
    errors = [
        f for _, f in await external_redis.xrange(keys.events) if f[b"t"] == b"pipeline:error"
    ]
    assert len(errors) == 1
    assert b'"kind":"lag"' in errors[0][b"e"]


def test_spec_reads_stream_events_only_unless_asked() -> None:
    from herald.pipeline import Record

    spec = PipelineSpec(name="x", build=lambda: Pipeline("x", Flow()))
    own = Record("1-0", {"type": "pipeline:output", "streamId": "pipeline:x"}, 0)
    assert not spec.wants(own)
    assert spec.wants(Record("1-1", {"type": "stream:tweet:new", "streamId": "s"}, 0))
