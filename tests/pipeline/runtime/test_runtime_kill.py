"""kill -9 of a ``herald worker`` that owns a pipeline, mid-batch: the outputs are exactly
those of an uninterrupted run (same eventIds and data, none missing, none twice)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from herald.pipeline.runtime import dry_run
from herald.pipeline.runtime.spec import output_event_id
from herald.store.keys import Keys
from herald.store.pipelines import PipelineStore
from tests.conftest import EXTERNAL_REDIS_URL, REPO_ROOT
from tests.pipeline.runtime import builders
from tests.pipeline.runtime.support import duplicates, fill, outputs
from tests.processes import HERALD_BIN
from tests.waiting import wait_until

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]
TOTAL = 3000


def worker_env(prefix: str) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": EXTERNAL_REDIS_URL,
        "HERALD_REDIS_PREFIX": prefix,
        "HERALD_PIPELINES": "tests.pipeline.runtime.builders:exactly_once",
        "HERALD_PIPELINE_LEASE_TTL": "1",
        "HERALD_PIPELINE_BATCH": "100",
        "TEST_PIPELINE_ITEM_DELAY": "0.0005",
        "PYTHONPATH": str(REPO_ROOT),
    }


async def spawn(prefix: str, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            HERALD_BIN, "worker", env=worker_env(prefix), stdout=out, stderr=out
        )


async def test_kill_9_mid_batch_neither_loses_nor_duplicates(
    external_redis: Redis, keys: Keys, store: PipelineStore, tmp_path: Path
) -> None:
    await fill(external_redis, keys, TOTAL)
    procs = [
        await spawn(keys.prefix, tmp_path / "w0.log"),
        await spawn(keys.prefix, tmp_path / "w1.log"),
    ]
    mid_batch_kills = 0
    try:
        for round_ in range(3):
            owner = await _owner_pid(store, procs, what=f"an owner (round {round_})")
            target = (await store.load("chaos")).counters["in"] + 300
            await wait_until(
                lambda t=target: _in_at_least(store, t), 60, what=f"{target} committed"
            )
            await wait_until(lambda: _pending(store), 20, what="a batch read but not committed")
            os.kill(owner.pid, signal.SIGKILL)  # mid-batch: read, processing, not committed
            await owner.wait()
            info = await store.group_info("chaos")
            mid_batch_kills += bool(info and info.pending)
            procs.remove(owner)
            procs.append(await spawn(keys.prefix, tmp_path / f"w{round_ + 2}.log"))
        await wait_until(lambda: _in_at_least(store, TOTAL), 90, what="every tweet committed")
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            await asyncio.wait_for(proc.wait(), 30)
    assert mid_batch_kills >= 1, "no kill landed mid-batch"
    live = await outputs(external_redis, keys, "chaos")
    assert duplicates(live) == []
    expected, _ = await dry_run(store, builders.exactly_once(), "-", "+")
    by_id = {output_event_id("chaos", o.key): dict(o.data) for o in expected}
    seen = {e["eventId"]: e["data"] for e in live if e["output"] == "seen"}
    want_seen = {k: v for k, v in by_id.items() if "/seen" in k}
    assert seen == want_seen  # every per-tweet output, same id and data, none missing
    for event in live:  # windows closed live equal the uninterrupted run's
        assert by_id[event["eventId"]] == event["data"]
    state = await store.load("chaos")
    assert state.counters["in"] == TOTAL


async def _owner_pid(
    store: PipelineStore, procs: list[asyncio.subprocess.Process], what: str
) -> asyncio.subprocess.Process:
    found: list[asyncio.subprocess.Process] = []

    async def owned() -> bool:
        owner = await store.owner("chaos") or ""
        found[:] = [p for p in procs if f":{p.pid}:" in owner]
        return bool(found)

    await wait_until(owned, 60, what=what)
    return found[0]


async def _in_at_least(store: PipelineStore, count: int) -> bool:
    return (await store.load("chaos")).counters["in"] >= count


async def _pending(store: PipelineStore) -> bool:
    info = await store.group_info("chaos")
    return bool(info and info.pending)
