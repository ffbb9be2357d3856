"""kill -9 of a push connection's owner: herald worker processes on one Redis read a feed
served over a real WebSocket while it is published to; the owner is killed with SIGKILL,
twice; each time another worker holds the connection within the bound (lease TTL + check
interval + slack), and every published item is in the log exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from herald.config import Settings
from herald.push.memory import MemoryFeed
from herald.push.replay import FeedSocketSource, serve_feed
from herald.service import Herald
from tests.conftest import EXTERNAL_REDIS_URL, REPO_ROOT
from tests.platforms.feed import TYPE
from tests.push.support import logged
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

LEASE_TTL = 2.0
CHECK_INTERVAL = 0.2
SLACK = 4.0
"""The new owner's connect and first batch on a loaded machine."""
BOUND = LEASE_TTL + CHECK_INTERVAL + SLACK
CONNECTION = "feed:main"


def _env(prefix: str, feed_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "REDIS_"))}
    env.update(
        REDIS_URL=EXTERNAL_REDIS_URL,
        HERALD_REDIS_PREFIX=prefix,
        HERALD_PUSH_LEASE_TTL=str(LEASE_TTL),
        HERALD_PUSH_CHECK_INTERVAL=str(CHECK_INTERVAL),
        HERALD_PUSH_BACKOFF="0.1",
        HERALD_RECONCILE_INTERVAL="1",
        HERALD_WORKER_HEARTBEAT_TTL="2",
        TEST_FEED_URL=feed_url,
        PYTHONPATH=str(REPO_ROOT),
    )
    return env


class Workers:
    """``tests/push/push_worker.py`` processes; their stderr in files; stopped at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._n = 0

    async def start(self, env: dict[str, str]) -> str:
        """Start one; returns its worker id once it runs."""
        self._n += 1
        err = self.logs / f"worker{self._n}.log"
        with err.open("wb") as sink:
            proc = await asyncio.to_thread(
                subprocess.Popen,
                [sys.executable, "-m", "tests.push.push_worker"],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=sink,
            )
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
        assert line.startswith(b"ready "), f"worker did not start: {err.read_text()}"
        worker_id = line.split()[1].decode()
        self.procs[worker_id] = proc
        return worker_id

    def kill9(self, worker_id: str) -> None:
        proc = self.procs.pop(worker_id)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


@pytest.fixture
def workers(external_redis: aioredis.Redis, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


async def _publish(feed: MemoryFeed, count: list[int]) -> None:
    """Publish steadily until cancelled."""
    while True:
        for _ in range(5):
            feed.publish("news", f"m{feed.last_seq + 1}")
            count[0] += 1
        await asyncio.sleep(0.05)  # the publishing pace (100 a second), not a wait for a result


@contextlib.asynccontextmanager
async def _publishing(feed: MemoryFeed) -> AsyncIterator[list[int]]:
    count = [0]
    task = asyncio.create_task(_publish(feed, count))
    try:
        yield count
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _owner(control: Herald) -> str | None:
    token = await control.push_store.owner(CONNECTION)
    return token.rsplit(".", 1)[0] if token else None


async def test_a_killed_owner_is_replaced_within_the_bound_losing_nothing(
    workers: Workers, key_prefix: str
) -> None:
    feed = MemoryFeed()
    settings = Settings(redis_url=EXTERNAL_REDIS_URL, redis_prefix=key_prefix)
    async with serve_feed(feed) as url:
        env = _env(key_prefix, url)
        for _ in range(3):
            await workers.start(env)
        control_source = FeedSocketSource(url, stream_types=(TYPE,))  # for its connection key
        async with Herald(settings, sources=[control_source], worker=False, delivery=False) as ctl:
            sid = str((await ctl.manager.create(TYPE, target="*"))["id"])

            async def connected() -> bool:
                return bool((await ctl.manager.status(sid))["connection"]["connected"])

            await wait_until(connected, 30, what="a worker connected")
            takeovers: list[float] = []
            async with _publishing(feed):
                for _ in range(2):
                    owner = await _owner(ctl)
                    assert owner in workers.procs, f"owner {owner} is one of the workers"
                    await wait_until(lambda: feed.last_seq > 0, 10)
                    workers.kill9(owner)
                    killed = time.monotonic()

                    async def taken_over(dead: str = owner) -> bool:
                        now = await _owner(ctl)
                        return now is not None and now != dead

                    await wait_until(taken_over, BOUND + 10, interval=0.05, what="takeover")
                    takeovers.append(time.monotonic() - killed)
                    await workers.start(env)  # the number of workers stays the same
                    published = feed.last_seq

                    async def flowing(n: int = published) -> bool:
                        return len(await logged(ctl, sid)) >= n

                    await wait_until(flowing, 30, what="items flow again after the takeover")
            total = feed.last_seq
            await wait_until(
                lambda: _count_is(ctl, sid, total), 60, what=f"all {total} items in the log"
            )
            got = await logged(ctl, sid)
    assert got == [f"m{i}" for i in range(1, total + 1)], "0 lost, 0 duplicated, in order"
    assert all(t <= BOUND for t in takeovers), f"takeover times {takeovers} > {BOUND}"


async def _count_is(control: Herald, sid: str, total: int) -> bool:
    return len(await logged(control, sid)) >= total
