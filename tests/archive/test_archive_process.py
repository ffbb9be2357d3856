"""A real ``herald serve`` writing the archive is killed with SIGKILL while events keep
arriving; a restarted one catches up from its consumer group: nothing lost, nothing twice.
The CLI then searches the restarted server."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from herald.archive.base import Filters
from herald.archive.sqlite import SqliteArchive
from herald.store.eventlog import EventLog
from herald.store.keys import Keys
from tests.archive.test_archive_writer import tweets
from tests.cli.conftest import invoker
from tests.conftest import EXTERNAL_REDIS_URL
from tests.processes import herald_process
from tests.servers import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(120)


async def test_kill_9_mid_stream_then_restart_archives_everything_once(
    key_prefix: str, tmp_path: Path, external_redis: Redis
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = tmp_path / "archive.db"
    env = {
        **os.environ,
        "REDIS_URL": EXTERNAL_REDIS_URL,
        "HERALD_REDIS_PREFIX": key_prefix,
        "HERALD_DATA_DIR": str(tmp_path / "data"),
        "HERALD_ARCHIVE_URL": f"sqlite:///{db}",
        "HERALD_ARCHIVE_BATCH": "50",
        "HERALD_PIPELINE_LEASE_TTL": "1",
    }
    log = EventLog(external_redis, Keys(key_prefix))
    archive = SqliteArchive(db)
    total = 0

    async def count() -> int:
        return await archive.count() if db.exists() else 0

    async with herald_process(["serve", "--port", str(port)], env, tmp_path / "a.log", url) as p:
        for k in range(10):
            await log.append("s1", tweets(k * 50, 50, word="before"))
            total += 50
        await wait_until(lambda: _at_least(count, 100), 30, what="the writer under way")
        p.send_signal(signal.SIGKILL)  # mid-stream: batches in flight are never acknowledged
        await p.wait()
    for k in range(4):  # arriving while no writer runs
        await log.append("s1", tweets(1000 + k * 50, 50, word="during"))
        total += 50
    async with herald_process(["serve", "--port", str(port)], env, tmp_path / "b.log", url):
        await wait_until(lambda: _at_least(count, total), 40, what="caught up after the restart")
        cli = invoker(url)
        found = await cli("search", "during", "--limit", "500", "--json")
        assert found.exit_code == 0, found.stderr
        assert '"count": 200' in found.stdout
    ids = [e.event_id async for e in archive.export(Filters())]
    assert len(ids) == total == 700
    assert len(set(ids)) == total
    pending = await external_redis.xpending(Keys(key_prefix).events, "archive")
    assert pending["pending"] == 0


async def _at_least(count: object, n: int) -> bool:
    got: int = await count()  # type: ignore[operator]
    return got >= n
