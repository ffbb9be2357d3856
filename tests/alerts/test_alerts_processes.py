"""Alerts end to end with real processes: the X stand-in (``herald fakex``), ``herald worker``
processes that poll it and run the evaluator, one Redis 7.

A rule fires once while tweets keep coming; its owning worker is killed with SIGKILL and a
new one takes over in the same state (no second firing); then X fails for a few polls while
tweets keep being posted. The stream is in backoff, its watermark frozen: the rule shows
Error and does not resolve, although no tweet is seen for longer than the rule tolerates. When
the stream recovers, its first poll finds the tweets of the stall, the windows close full,
and the alert stays firing; once the tweets stop it resolves, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from herald.config import Settings
from herald.service import Herald
from tests.conftest import EXTERNAL_REDIS_URL, REPO_ROOT
from tests.engine.test_engine_worker_kill import Procs, _env, procs, wait_worker  # noqa: F401
from tests.servers import free_port
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

COOKIE = "alerts-process-test-session"
WINDOW = 5
RULE = {
    "id": "chatter",
    "type": "volume",
    "condition": "above",
    "threshold": 0,
    "window": WINDOW,
    "keepFiringFor": WINDOW,  # one quiet window is tolerated; two resolve it
    "channel": "ops",
}


def _spawn_fakex(procs: Procs, port: int, env: dict[str, str]) -> None:  # noqa: F811
    """Its output goes to a file: a pipe nobody reads fills up and stalls it."""
    fake = [sys.executable, "-m", "herald.cli", "fakex", "--port", str(port)]
    with (procs.logs / "fakex.log").open("wb") as sink:
        procs.procs.append(subprocess.Popen(fake, cwd=REPO_ROOT, env=env, stdout=sink, stderr=sink))


@pytest.fixture
async def fakex(procs: Procs, key_prefix: str) -> AsyncIterator[str]:  # noqa: F811
    port = free_port()
    _spawn_fakex(procs, port, _env(key_prefix))
    url = f"http://127.0.0.1:{port}"

    async def up() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{url}/_fakex/requests")).status_code == 200
        except httpx.TransportError:
            return False

    await wait_until(up, 30, what="fakex")
    yield url


async def alert_types(herald: Herald) -> list[str]:
    found = await herald.redis.xrange(herald.keys.events)
    return [f[b"t"].decode() for _, f in found if f[b"t"].startswith(b"alert:")]


async def test_fires_once_survives_a_kill_never_resolves_on_a_stall_resolves_once(
    procs: Procs,  # noqa: F811
    fakex: str,
    key_prefix: str,
) -> None:
    env = _env(
        key_prefix,
        HERALD_X_BASE_URL=fakex,
        HERALD_SESSION_COOKIE=COOKIE,
        HERALD_PIPELINE_SKEW="1",
        HERALD_PIPELINE_LEASE_TTL="1",
        HERALD_ALERTS_BLOCK="0.2",
    )
    worker = [sys.executable, "-m", "herald.cli", "worker"]
    settings = Settings(redis_url=EXTERNAL_REDIS_URL, redis_prefix=key_prefix, min_interval=0.2)
    async with (
        Herald(settings, worker=False, delivery=False) as control,
        httpx.AsyncClient(base_url=fakex, timeout=10) as x,
    ):
        assert (await x.post("/_fakex/users", json={"username": "talker"})).status_code == 201
        first = procs.spawn(worker, env)
        await wait_worker(procs, first)
        sid = (await control.manager.create("tweet", "talker", interval=1))["id"]
        await control.alerts.create_rule({**RULE, "scope": {"streams": [sid]}})

        async def status() -> dict[str, object]:
            return dict((await control.alerts.get_rule("chatter"))["status"])

        async def baselined() -> bool:
            record = await control.store.get(sid)
            return record is not None and (record.last_poll or 0) > 0

        await wait_until(baselined, 30, what="the baseline poll")
        stop = asyncio.Event()

        async def talk() -> None:  # a tweet a second until told to stop
            n = 0
            while not stop.is_set():
                n += 1
                await x.post("/_fakex/users/talker/tweets", json={"text": f"chat {n}"})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)

        talker = asyncio.create_task(talk())
        try:
            await wait_until(lambda: _has(control, ["alert:firing"]), 60, what="the firing")

            # the owner dies; another worker restores the committed state
            Procs.kill(first)
            second = procs.spawn(worker, env)
            await wait_worker(procs, second)

            # X fails for three polls (2 + 4 + 8 s of backoff): no tweet is seen for longer
            # than two windows, while they keep being posted
            fault = {"status": 503, "count": 3}
            assert (await x.post("/_fakex/faults", json=fault)).status_code == 201

            async def in_error() -> bool:
                return (await status())["state"] == "error"

            await wait_until(in_error, 60, what="the rule to show the failing stream")
            stalled = time.time()

            async def recovered() -> bool:
                record = await control.store.get(sid)
                return (
                    record is not None
                    and record.consecutive_errors == 0
                    and (record.last_poll or 0) > stalled
                )

            await wait_until(recovered, 90, what="the stream to recover")
            recovered_at = time.time()

            async def evaluated_since() -> bool:
                at = (await status())["lastEvaluatedAt"]
                return isinstance(at, str) and _epoch(at) >= recovered_at - 2
                # a window ending after the recovery: the stall's windows are all evaluated

            await wait_until(evaluated_since, 60, what="the windows of the stall evaluated")
            assert await alert_types(control) == ["alert:firing"], "no resolve on the stall"
            assert (await status())["state"] == "firing"
        finally:
            stop.set()
            await talker
        await wait_until(
            lambda: _has(control, ["alert:firing", "alert:resolved"]), 60, what="the resolve"
        )
        record = await control.store.get(sid)
        assert record is not None and record.polls > 0
        events = await control.redis.xrange(control.keys.events)
        assert sum(1 for _, f in events if f[b"t"] == b"stream:error") >= 1
        assert await alert_types(control) == ["alert:firing", "alert:resolved"]


async def _has(herald: Herald, types: list[str]) -> bool:
    found = await alert_types(herald)
    assert found == types[: len(found)], f"unexpected alerts: {found}"
    return found == types


def _epoch(iso: str) -> float:
    from herald.alerts.model import epoch

    value = epoch(iso)
    assert value is not None
    return value
