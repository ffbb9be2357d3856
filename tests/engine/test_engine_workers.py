"""Several processes on one Redis: no overlapping polls, no missed schedules, no lost or
duplicated events when workers are killed mid-poll, and state that survives a restart."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from herald.config import Settings
from herald.service import Herald
from tests.conftest import EXTERNAL_REDIS_URL, REPO_ROOT
from tests.engine.redis_source import RedisTestSource, poll_log, post
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

ENGINE_ENV = {
    "HERALD_MIN_INTERVAL": "0.2",
    "HERALD_POLL_TIMEOUT": "1",
    "HERALD_RECONCILE_INTERVAL": "1",
    "HERALD_JITTER": "0",
}


def worker_env(redis_url: str, prefix: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "REDIS_"))}
    env.update(ENGINE_ENV, REDIS_URL=redis_url, HERALD_REDIS_PREFIX=prefix, **extra)
    return env


class Workers:
    """Spawns ``herald worker``-like processes running the Redis-backed test source."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        self.redis_url = redis_url
        self.prefix = prefix
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, **extra: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.engine.worker_main"],
            cwd=REPO_ROOT,
            env=worker_env(self.redis_url, self.prefix, **extra),
            stdout=subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == b"ready", f"worker did not start: {line!r}"
        self.procs.append(proc)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen[bytes]) -> None:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


@pytest.fixture
def workers(key_prefix: str, external_redis: aioredis.Redis) -> Iterator[Workers]:
    pool = Workers(EXTERNAL_REDIS_URL, key_prefix)
    yield pool
    pool.stop_all()


def engine_settings(prefix: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "redis_url": EXTERNAL_REDIS_URL,
        "redis_prefix": prefix,
        "min_interval": 0.2,
        "poll_timeout": 1,
        "reconcile_interval": 1,
        "jitter": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def local(key_prefix: str, external_redis: aioredis.Redis) -> AsyncIterator[Herald]:
    """The server's own worker, in this process."""
    source = RedisTestSource(EXTERNAL_REDIS_URL, key_prefix, delay=0.05)
    async with Herald(engine_settings(key_prefix), sources=[source], delivery=False) as herald:
        yield herald


async def test_three_workers_fifty_streams_never_overlap_or_miss(
    local: Herald, workers: Workers, external_redis: aioredis.Redis, key_prefix: str
) -> None:
    duration = float(os.environ.get("HERALD_TEST_SCHEDULE_SECONDS", "30"))
    workers.start(TEST_SOURCE_DELAY="0.05")
    workers.start(TEST_SOURCE_DELAY="0.05")
    ids = [(await local.manager.create("tweet", f"user{i}", interval=1))["id"] for i in range(50)]
    await asyncio.sleep(duration)
    for sid in ids:
        await local.manager.pause(sid)

    async def in_flight_done() -> bool:
        marks = await poll_log(external_redis, key_prefix)
        return all(
            sum(m[0] == "start" for m in marks.get(s, []))
            == sum(m[0] == "end" for m in marks.get(s, []))
            for s in ids
        )

    await wait_until(in_flight_done, 15, what="polls in flight finished")
    log = await poll_log(external_redis, key_prefix)
    pids: set[int] = set()
    for sid in ids:
        marks = sorted(log[sid], key=lambda m: m[2])
        kinds = [m[0] for m in marks]
        assert kinds == ["start", "end"] * (len(kinds) // 2), f"overlapping polls of {sid}"
        starts = [m[2] for m in marks if m[0] == "start"]
        assert len(starts) >= duration * 0.6, f"{sid} polled only {len(starts)} times"
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert max(gaps) <= 1 + 2, f"{sid} missed its schedule: gap {max(gaps):.2f}s"
        pids.update(m[1] for m in marks)
    assert len(pids) == 3, f"work was not shared by all three workers: {pids}"


async def test_kill_minus_nine_mid_poll_loses_and_duplicates_nothing(
    workers: Workers, external_redis: aioredis.Redis, key_prefix: str
) -> None:
    settings = engine_settings(key_prefix)
    for i in range(3):
        await post(external_redis, key_prefix, "kim", f"old {i}")
    idle = RedisTestSource(EXTERNAL_REDIS_URL, key_prefix)
    async with Herald(settings, sources=[idle], worker=False, delivery=False) as control:
        stream = await control.manager.create("tweet", "kim", interval=0.3)
        first = workers.start()
        await wait_until(lambda: _polls(control, stream["id"], 1), 30, what="the baseline")
        workers.kill(first)
        posted: list[str] = []
        rng = random.Random(7)
        kills = int(os.environ.get("HERALD_TEST_KILLS", "6"))
        for round_ in range(kills):
            proc = workers.start(TEST_SOURCE_DELAY="0.3")
            posted.append(await post(external_redis, key_prefix, "kim", f"new {round_}"))
            await asyncio.sleep(rng.uniform(0.2, 1.2))
            workers.kill(proc)
        workers.start(TEST_SOURCE_DELAY="0.3")
        deadline = time.monotonic() + 60
        seen: list[str] = []
        while time.monotonic() < deadline:
            history = await control.manager.history(stream["id"], 1000)
            seen = [e["tweet"]["id"] for e in history if e["type"] == "stream:tweet:new"]
            if set(seen) >= set(posted):
                break
            await asyncio.sleep(0.2)
        assert sorted(seen) == sorted(posted), "every posted tweet exactly once, nothing else"
        polls = (await control.manager.status(stream["id"]))["polls"]
        await wait_until(lambda: _polls(control, stream["id"], polls + 1), 15, what="a new poll")
        assert (await control.manager.status(stream["id"]))["status"] == "active"


async def test_restart_with_embedded_redis_keeps_everything_and_resumes(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        redis_prefix="herald",
        min_interval=0.2,
        poll_timeout=1,
        reconcile_interval=0.5,
        jitter=0,
    )

    async def tweet_ids(herald: Herald, sid: str) -> list[str]:
        history = await herald.manager.history(sid, 1000)
        return [e["tweet"]["id"] for e in history if e["type"] == "stream:tweet:new"]

    async def until(probe: object, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not await probe():  # type: ignore[operator]
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.05)

    source = RedisTestSource(None, "herald")
    async with Herald(settings, sources=[source], delivery=False) as first:
        source.url = first.redis_url
        for i in range(5):
            await post(first.redis, "herald", "rex", f"old {i}")
        sid = (await first.manager.create("tweet", "rex", interval=0.3))["id"]
        await until(lambda: _polls(first, sid, 1))
        new_ids = [await post(first.redis, "herald", "rex", f"new {i}") for i in range(2)]
        await until(lambda: _has(tweet_ids(first, sid), 2))
        before = await first.manager.status(sid)
        seen_before = await first.redis.zcard(first.keys.seen(sid))
        history_before = await first.manager.history(sid, 1000)
    await source.aclose()

    source2 = RedisTestSource(None, "herald")
    async with Herald(settings, sources=[source2], delivery=False) as second:
        source2.url = second.redis_url
        after = await second.manager.status(sid)
        assert after["status"] == "active" and after["counts"] == before["counts"]
        assert await second.redis.zcard(second.keys.seen(sid)) == seen_before == 7
        assert await second.manager.history(sid, 1000) == history_before
        # polling resumes by itself, without a baseline flood
        await until(lambda: _polls(second, sid, before["polls"] + 2))
        assert await tweet_ids(second, sid) == list(reversed(new_ids))
        latest = await post(second.redis, "herald", "rex", "after restart")
        await until(lambda: _has(tweet_ids(second, sid), 3))
        assert (await tweet_ids(second, sid))[0] == latest
    await source2.aclose()


async def _polls(herald: Herald, sid: str, at_least: int) -> bool:
    return int((await herald.manager.status(sid))["polls"]) >= at_least


async def _has(ids: object, count: int) -> bool:
    return len(await ids) >= count  # type: ignore[misc]
