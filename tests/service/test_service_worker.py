"""SIGTERM or SIGINT stops ``herald worker`` within ``HERALD_SHUTDOWN_TIMEOUT``: a poll still
in flight then is released, and the next worker polls its stream; nothing is lost."""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from herald.config import Settings
from herald.service import Herald
from herald.testing.fakex import create_app as create_fakex
from tests.conftest import EXTERNAL_REDIS_URL
from tests.servers import serve_asgi
from tests.service.support import HeraldProcess, clean_env, until

pytestmark = pytest.mark.timeout(180)

SESSION = "worker-signal-session"


@pytest.fixture
async def fakex_url() -> AsyncIterator[str]:
    async with serve_asgi(create_fakex(), ws="none") as url:
        yield url


def start_worker(log: Path, prefix: str, fakex_url: str) -> HeraldProcess:
    env = clean_env(
        REDIS_URL=EXTERNAL_REDIS_URL,
        HERALD_REDIS_PREFIX=prefix,
        HERALD_X_BASE_URL=fakex_url,
        HERALD_SESSION_COOKIE=SESSION,
        HERALD_MIN_INTERVAL="1",
        HERALD_JITTER="0",
        HERALD_RECONCILE_INTERVAL="1",
        HERALD_POLL_TIMEOUT="30",
        HERALD_SHUTDOWN_TIMEOUT="1",
    )
    return HeraldProcess(["worker"], env, log)


async def events_of(herald: Herald, stream_id: str) -> list[dict[str, Any]]:
    return [e for e in await herald.log.read("0-0", count=1000) if e["streamId"] == stream_id]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_worker_stops_within_the_bound_and_loses_no_poll(
    sig: signal.Signals,
    tmp_path: Path,
    key_prefix: str,
    external_redis: aioredis.Redis,
    fakex_url: str,
) -> None:
    settings = Settings(
        redis_url=EXTERNAL_REDIS_URL,
        redis_prefix=key_prefix,
        x_base_url=fakex_url,
        session_cookie=SESSION,
        min_interval=1,
    )
    first = start_worker(tmp_path / "first.log", key_prefix, fakex_url)
    second: HeraldProcess | None = None
    try:
        async with (
            Herald(settings, worker=False, delivery=False) as herald,
            httpx.AsyncClient(base_url=fakex_url, timeout=30) as fakex,
        ):
            await until(lambda: _said(first, "polling for"), "the worker to start")
            stream = await herald.manager.create("tweet", "alice", interval=2)
            stream_id = stream["id"]

            async def baselined() -> bool:
                return bool((await herald.manager.status(stream_id))["polls"] >= 1)

            await until(baselined, "the worker's baseline poll")

            async def user_tweets() -> int:
                counts = (await fakex.get("/_fakex/requests")).json()["operations"]
                return int(counts.get("UserTweets", 0))

            # The next poll hangs at X for a minute, far past the shutdown bound of 1 s.
            before = await user_tweets()
            fault = {"mode": "timeout", "seconds": 60, "operation": "UserTweets"}
            assert (await fakex.post("/_fakex/faults", json=fault)).status_code == 201
            posted = await fakex.post("/_fakex/users/alice/tweets", json={"text": "in flight"})
            assert posted.status_code == 201
            await until(lambda: _more(user_tweets, before), "a poll to hang at X")

            signalled = time.monotonic()
            first.signal(sig)
            assert await first.exit_code(timeout=30) == 0, first.output
            took = time.monotonic() - signalled
            assert took < 15, f"the worker took {took:.1f}s to stop (bound: 1s + teardown)"
            assert "Traceback" not in first.output

            # The released poll runs again on the next worker: the tweet arrives, once.
            second = start_worker(tmp_path / "second.log", key_prefix, fakex_url)

            async def tweeted() -> list[dict[str, Any]]:
                found = await events_of(herald, stream_id)
                return [e for e in found if e["type"] == "stream:tweet:new"]

            tweets = await until(tweeted, "the released poll to run again", timeout=90)
            assert [t["tweet"]["text"] for t in tweets] == ["in flight"]
            errors = [e for e in await events_of(herald, stream_id) if e["type"] == "stream:error"]
            assert errors == []  # the hanging poll was released, not failed
            second.signal(signal.SIGTERM)
            assert await second.exit_code() == 0, second.output
    finally:
        first.close()
        if second is not None:
            second.close()


async def _said(process: HeraldProcess, text: str) -> bool:
    if process.proc.poll() is not None:
        raise AssertionError(f"the worker exited early:\n{process.output}")
    return text in process.output


async def _more(probe: Any, than: int) -> bool:
    return bool(await probe() > than)
