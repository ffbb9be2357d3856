"""Killed workers never stall streams: ``herald worker`` processes on one Redis, the X
stand-in as a process, a worker killed with SIGKILL while it holds polls. Every stream it
held is polled again within the recovery bound (heartbeat TTL + sweep interval + slack),
far sooner than its lock's lease would allow; nothing posted meanwhile is lost or doubled;
and under repeated kills no two polls of a stream ever overlap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from herald.config import Settings
from herald.service import Herald
from tests.conftest import EXTERNAL_REDIS_URL, REPO_ROOT
from tests.engine.redis_source import RedisTestSource, poll_log, post
from tests.servers import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

HEARTBEAT_TTL = 2.0
SWEEP_INTERVAL = 0.5
POLL_TIMEOUT = 10.0
"""Long: the dead poll's lock (lease 1.5 x this + 1 s = 16 s) outlives the bound below, so
a stream polled within the bound proves the sweep freed that lock."""
SLACK = 4.0
"""The re-run itself on a loaded machine: taking the job, the poll, its commit."""
BOUND = HEARTBEAT_TTL + SWEEP_INTERVAL + SLACK
COOKIE = "worker-kill-test-session"


def _env(prefix: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "REDIS_"))}
    env.update(
        REDIS_URL=EXTERNAL_REDIS_URL,
        HERALD_REDIS_PREFIX=prefix,
        HERALD_MIN_INTERVAL="0.2",
        HERALD_POLL_TIMEOUT=str(POLL_TIMEOUT),
        HERALD_RECONCILE_INTERVAL="1",
        HERALD_WORKER_HEARTBEAT_TTL=str(HEARTBEAT_TTL),
        HERALD_SWEEP_INTERVAL=str(SWEEP_INTERVAL),
        HERALD_JITTER="0",
        **extra,
    )
    return env


class Procs:
    """Child processes of one test, their stderr in files; stopped at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        err = self.logs / f"proc{len(self.procs)}.log"
        with err.open("wb") as sink:
            proc = subprocess.Popen(
                argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=sink
            )
        self.procs.append(proc)
        return proc

    def stderr(self, proc: subprocess.Popen[bytes]) -> str:
        return (self.logs / f"proc{self.procs.index(proc)}.log").read_text(errors="replace")

    @staticmethod
    def kill(proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


@pytest.fixture
def procs(external_redis: aioredis.Redis, tmp_path: Path) -> Iterator[Procs]:
    pool = Procs(tmp_path)
    yield pool
    pool.stop_all()


async def wait_worker(procs: Procs, proc: subprocess.Popen[bytes]) -> None:
    """Until ``herald worker`` says it is polling (it does once its worker has started)."""

    async def polling() -> bool:
        assert proc.poll() is None, f"the worker exited: {procs.stderr(proc)}"
        return "herald worker" in procs.stderr(proc)

    await wait_until(polling, 30, what=f"worker {proc.pid} to start")


async def last_polls(herald: Herald, ids: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for sid in ids:
        record = await herald.store.get(sid)
        assert record is not None and record.status == "active", f"{sid}: {record}"
        out[sid] = record.last_poll or 0.0
    return out


async def tweet_ids(herald: Herald, sid: str) -> list[str]:
    history = await herald.manager.history(sid, 1000)
    return [e["tweet"]["id"] for e in history if e["type"] == "stream:tweet:new"]


@pytest.fixture
async def fakex(procs: Procs, key_prefix: str) -> AsyncIterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "herald.cli", "fakex", "--port", str(port)]
    procs.spawn(cmd, _env(key_prefix))
    url = f"http://127.0.0.1:{port}"

    async def up() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                response = await client.get(f"{url}/_fakex/requests")
                return response.status_code == 200
        except httpx.TransportError:
            return False

    await wait_until(up, 30, what="fakex")
    yield url


async def test_a_killed_workers_polls_run_again_within_the_bound(
    procs: Procs, fakex: str, key_prefix: str
) -> None:
    env = _env(
        key_prefix,
        HERALD_X_BASE_URL=fakex,
        HERALD_SESSION_COOKIE=COOKIE,
    )
    worker = [sys.executable, "-m", "herald.cli", "worker"]
    settings = Settings(
        redis_url=EXTERNAL_REDIS_URL,
        redis_prefix=key_prefix,
        min_interval=0.2,
        x_base_url=fakex,
        session_cookie=COOKIE,
    )
    users = [f"kill{i}" for i in range(4)]
    async with (
        Herald(settings, worker=False, delivery=False) as control,
        httpx.AsyncClient(base_url=fakex, timeout=10) as x,
    ):
        for name in users:
            assert (await x.post("/_fakex/users", json={"username": name})).status_code == 201
            await x.post(f"/_fakex/users/{name}/tweets", json={"text": "before"})
        first = procs.spawn(worker, env)
        await wait_worker(procs, first)
        ids = [(await control.manager.create("tweet", u, interval=0.5))["id"] for u in users]

        async def baselined() -> bool:
            return all(t > 0 for t in (await last_polls(control, ids)).values())

        await wait_until(baselined, 30, what="every baseline")
        # The next four requests to X hang: the only worker holds four polls in flight.
        fault = {"mode": "timeout", "count": len(ids), "seconds": 60}
        assert (await x.post("/_fakex/faults", json=fault)).status_code == 201

        async def all_hanging() -> bool:
            return bool((await x.get("/_fakex/faults")).json()["pending"] == [])

        await wait_until(all_hanging, 30, what="polls to hang")
        held = await last_polls(control, ids)
        posted = {}
        for sid, name in zip(ids, users, strict=True):
            body = {"text": f"while {name}'s poll hangs"}
            posted[sid] = (await x.post(f"/_fakex/users/{name}/tweets", json=body)).json()["id"]
        second = procs.spawn(worker, env)
        await wait_worker(procs, second)
        assert await control.redis.exists(*(control.keys.lock(sid) for sid in ids)) == len(ids)

        Procs.kill(first)
        killed = time.time()

        async def all_polled_again() -> bool:
            polls = await last_polls(control, ids)
            return all(polls[sid] > held[sid] for sid in ids)

        await wait_until(all_polled_again, BOUND + 30, what="every stream to be polled again")
        recovered = time.time() - killed
        assert recovered <= BOUND, f"streams stalled {recovered:.1f}s after the kill"

        async def all_delivered() -> bool:
            for sid in ids:
                if posted[sid] not in await tweet_ids(control, sid):
                    return False
            return True

        await wait_until(all_delivered, 30, what="the tweets posted meanwhile")
        for sid in ids:
            assert await tweet_ids(control, sid) == [posted[sid]], "once each, nothing else"


async def test_repeated_kills_never_overlap_polls_or_stall_streams(
    procs: Procs, key_prefix: str, external_redis: aioredis.Redis
) -> None:
    """Two workers, one of them killed whenever it is mid-poll, a fresh one started each
    time. The test source logs every fetch's start and end with its pid."""
    env = _env(key_prefix, TEST_SOURCE_DELAY="0.3")
    worker = [sys.executable, "-m", "tests.engine.worker_main"]
    settings = Settings(redis_url=EXTERNAL_REDIS_URL, redis_prefix=key_prefix, min_interval=0.2)
    idle = RedisTestSource(EXTERNAL_REDIS_URL, key_prefix)

    def start() -> subprocess.Popen[bytes]:
        proc = procs.spawn(worker, env)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        return proc

    async with Herald(settings, sources=[idle], worker=False, delivery=False) as control:
        running = [start(), start()]
        ids = [
            (await control.manager.create("tweet", f"rk{i}", interval=0.3))["id"] for i in range(6)
        ]
        posted: dict[str, list[str]] = {sid: [] for sid in ids}

        async def baselined() -> bool:  # tweets posted before that are not news
            return all(t > 0 for t in (await last_polls(control, ids)).values())

        await wait_until(baselined, 30, what="every baseline")
        recoveries: list[float] = []
        for round_ in range(int(os.environ.get("HERALD_TEST_KILLS", "4"))):
            victim = running[round_ % 2]

            async def mid_poll(pid: int = victim.pid) -> bool:
                return bool(_in_flight(await poll_log(external_redis, key_prefix), pid))

            await wait_until(mid_poll, 30, what=f"worker {victim.pid} to be mid-poll")
            for i, sid in enumerate(ids):
                posted[sid].append(await post(external_redis, key_prefix, f"rk{i}", f"r{round_}"))
            Procs.kill(victim)
            killed = time.time()
            held = _in_flight(await poll_log(external_redis, key_prefix), victim.pid)
            running[round_ % 2] = start()

            async def rerun(
                pid: int = victim.pid, streams: set[str] = held, killed: float = killed
            ) -> bool:
                log = await poll_log(external_redis, key_prefix)
                return all(
                    any(m[0] == "start" and m[1] != pid and m[2] > killed for m in log[s])
                    for s in streams
                )

            await wait_until(
                rerun, BOUND + 30, what="the killed worker's streams to be polled again"
            )
            recoveries.append(time.time() - killed)

        async def delivered() -> bool:
            for sid in ids:
                if not set(posted[sid]) <= set(await tweet_ids(control, sid)):
                    return False
            return True

        await wait_until(delivered, 30, what="every tweet posted during the kills")
        for sid in ids:
            assert sorted(await tweet_ids(control, sid)) == sorted(posted[sid])
        dead = {p.pid for p in procs.procs if p.poll() is not None}
        for sid, marks in (await poll_log(external_redis, key_prefix)).items():
            _assert_no_overlap(sid, marks, dead)
        assert max(recoveries) <= BOUND, f"recoveries: {[round(r, 1) for r in recoveries]}"
    await idle.aclose()


def _in_flight(log: dict[str, list[tuple[str, int, float]]], pid: int) -> set[str]:
    """Streams whose latest fetch by ``pid`` started and has not ended."""
    out = set()
    for sid, marks in log.items():
        mine = [m[0] for m in marks if m[1] == pid]
        if mine and mine[-1] == "start":
            out.add(sid)
    return out


def _assert_no_overlap(sid: str, marks: list[tuple[str, int, float]], dead: set[int]) -> None:
    """Each fetch runs alone: one that never ended (its worker was killed) ends at the
    next fetch's start at the latest, and any other's start must follow the last end."""
    busy_until = 0.0
    open_by: int | None = None
    for what, pid, at in sorted(marks, key=lambda m: m[2]):
        if what == "start":
            if open_by is not None:
                assert open_by in dead, f"{sid}: fetches of {open_by} and {pid} overlap"
            assert at >= busy_until, f"{sid}: a fetch started before the previous one ended"
            open_by = pid
        else:
            assert open_by == pid, f"{sid}: an end by {pid} without its start"
            busy_until, open_by = at, None
