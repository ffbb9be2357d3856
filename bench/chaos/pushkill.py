"""kill -9 of a push connection's owner, again and again, while Bluesky is posted to.

External Redis (the run's own prefix), ``herald fakesky`` (the Jetstream stand-in, which
replays from a cursor as Jetstream does, alongside its recorded frames) and three
``herald worker`` processes; ``bsky:post`` streams of a few accounts the stand-in posts
for share the one Jetstream connection, so a takeover must lose nothing and double
nothing. Posts are made at a steady rate through the stand-in's control API; every few
seconds the worker that owns the connection (the lease's owner, ``connection.owner`` of a
stream's status) is killed with SIGKILL and a new worker started. Per kill: the time until
another worker holds the connection and is connected (takeover), and until the next post
reaches the log (first append). At the end, once every post is in the log (or the settle
time is up), the log is counted against what was posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.chaos.options import ChaosOptions, outcome
from bench.chaos.stack import Proc, Stack
from bench.chaos.tally import delivery
from bench.common import percentile, progress
from herald.config import Settings
from herald.service import Herald

NAME = "pushkill"
LEASE_TTL = 2.0
USERS = ("pk-a.test", "pk-b.test", "pk-c.test")
POST = "stream:post:new"


def worker_env(opts: ChaosOptions) -> dict[str, str]:
    """Short leases and checks, so that a takeover is quick (as in the takeover tests)."""
    return {
        "REDIS_URL": opts.redis_url,
        "HERALD_REDIS_PREFIX": opts.prefix(NAME),
        "HERALD_PUSH_LEASE_TTL": str(LEASE_TTL),
        "HERALD_PUSH_CHECK_INTERVAL": "0.2",
        "HERALD_PUSH_BACKOFF": "0.1",
        "HERALD_RECONCILE_INTERVAL": "1",
        "HERALD_WORKER_HEARTBEAT_TTL": "2",
    }


async def until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> float:
    """Check every 50 ms until true; returns when (monotonic). Raises after ``timeout``."""
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.05)  # the checking pace, not a wait for a result
    except TimeoutError:
        raise TimeoutError(f"{what}: not within {timeout:g}s") from None
    return time.monotonic()


class Log:
    """Follows the global log in this process; keeps the events of the scenario's streams."""

    def __init__(self, herald: Herald, stream_ids: set[str], *, broken: bool = False) -> None:
        self.herald, self.stream_ids = herald, stream_ids
        self.events: list[dict[str, Any]] = []
        self.broken = broken
        """Drop the third post read: the harness's own check (it must count one lost)."""
        self._after: str | None = None

    async def follow(self) -> None:
        while True:
            bodies = await self.herald.log.read(self._after, 1000)
            if not bodies:
                await asyncio.sleep(0.05)  # the reading pace
                continue
            self._after = str(bodies[-1]["offset"])
            self.events += [b for b in bodies if b.get("streamId") in self.stream_ids]
            posts = [i for i, e in enumerate(self.events) if e["type"] == POST]
            if self.broken and len(posts) >= 3:
                del self.events[posts[2]]
                self.broken = False

    def item_ids(self, stream_id: str | None = None) -> list[str]:
        """The post ids (``at://`` URIs) of the post events (of one stream), in log order."""
        return [
            str(e["post"]["id"])
            for e in self.events
            if e["type"] == POST and stream_id in (None, e["streamId"])
        ]


class Workers:
    """The ``herald worker`` processes; an owner is found by the takeover its log states."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.procs: list[Proc] = []

    async def start(self) -> None:
        self.procs.append(await self.stack.start_worker())

    async def kill9(self, owner: str) -> bool:
        said = f"taken by worker {owner}"
        for proc in self.procs:
            if said in proc.log.read_text(errors="replace"):
                self.procs.remove(proc)
                await self.stack.kill9(proc)
                return True
        return False


class Sky:
    """The stand-in's control API: accounts, and posts at a steady rate."""

    def __init__(self, base: str) -> None:
        self.client = httpx.AsyncClient(base_url=base + "/_fakesky", timeout=30)
        self.posted: list[tuple[str, str]] = []  # (post URI, author), in posting order

    async def call(self, path: str, **body: Any) -> dict[str, Any]:
        answer = await self.client.post(path, json=body)
        if answer.is_error:
            raise RuntimeError(f"fakesky {path}: {answer.status_code} {answer.text[:200]}")
        out: dict[str, Any] = answer.json()
        return out

    async def post(self, user: str, count: int) -> None:
        sent = await self.call(f"/users/{user}/burst", count=count, text="chaos")
        self.posted += [(str(u), user) for u in sent["uris"]]

    async def post_at(self, rate: int, rng: random.Random, stop: asyncio.Event) -> None:
        """``rate`` posts a second (in ten steps), each by a random account, until ``stop``.

        Stopped by a signal, never cancelled: a cancel landing while a burst is in flight
        leaves posts the stand-in made but this list never heard of, which the tally would
        count as duplicated."""
        start, due = time.monotonic(), 0
        while not stop.is_set():
            want = int((time.monotonic() - start) * rate) + 1
            by = Counter(rng.choice(USERS) for _ in range(want - due))
            for user, count in by.items():
                await self.post(user, count)
            due = want
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)  # the posting pace

    async def all_posted(self) -> list[tuple[str, str]]:
        """Every post made, checked against the stand-in's own count of the accounts' posts:
        a harness that missed one would count it as duplicated, one it invented as lost."""
        made = 0
        for user in USERS:
            answer = await self.client.get(f"/users/{user}")
            answer.raise_for_status()
            made += int(answer.json()["postsCount"])
        if made != len(self.posted):
            raise RuntimeError(
                f"the harness recorded {len(self.posted)} posts but the stand-in made {made}"
            )
        return list(self.posted)


async def run(opts: ChaosOptions) -> dict[str, Any]:
    workers_n = opts.size("workers", 3, 3)
    rate = opts.size("rate", 50, 100)
    seconds = opts.size("seconds", 25, 120)
    every = opts.size("kill_every", 3.0, 5.0)
    settle = opts.size("settle", 30, 60)
    rng = random.Random(opts.seed)
    takeovers: list[float] = []
    appends: list[float] = []
    notes: list[str] = []
    async with Stack(worker_env(opts)) as stack:
        sky = Sky(await stack.start_fakesky())
        workers = Workers(stack)
        await asyncio.gather(*(workers.start() for _ in range(workers_n)))
        settings = Settings(
            redis_url=opts.redis_url,
            redis_prefix=opts.prefix(NAME),
            jetstream_url=stack.env["HERALD_JETSTREAM_URL"],
            bsky_api_url=stack.env["HERALD_BSKY_API_URL"],
        )
        async with Herald(settings, worker=False, delivery=False) as ctl, sky.client:
            for user in USERS:
                await sky.call("/users", handle=user)
            sids = [str((await ctl.manager.create("bsky:post", target=u))["id"]) for u in USERS]
            log = Log(ctl, set(sids), broken=opts.broken)
            reader = asyncio.create_task(log.follow())

            async def connection() -> dict[str, Any]:
                return dict((await ctl.manager.status(sids[0]))["connection"])

            async def connected() -> bool:
                return bool((await connection())["connected"])

            async def flowing() -> bool:  # one post per account, until each stream has one
                for user in USERS:
                    await sky.post(user, 1)
                return all(log.item_ids(sid) for sid in sids)

            await until(connected, 60, "a worker holds the connection")
            await until(flowing, 60, "every stream receiving")
            progress(NAME, f"{workers_n} workers; {rate} posts/s for {seconds}s")
            stop_posting = asyncio.Event()
            poster = asyncio.create_task(sky.post_at(rate, rng, stop_posting))
            starting: set[asyncio.Task[None]] = set()
            try:
                end = time.monotonic() + seconds
                while time.monotonic() + every < end:
                    await asyncio.sleep(every * rng.uniform(0.8, 1.2))  # pacing the kills
                    await until(connected, 30, "an owner before the kill")
                    owner = str((await connection())["owner"])
                    seen = len(log.events)
                    if not await workers.kill9(owner):
                        raise RuntimeError(f"the owner {owner} is none of the workers")
                    killed = time.monotonic()
                    task = asyncio.create_task(workers.start())
                    starting.add(task)

                    async def taken(dead: str = owner) -> bool:
                        now = await connection()
                        return bool(now["connected"]) and now["owner"] not in (None, dead)

                    async def appended(n: int = seen) -> bool:
                        return len(log.events) > n

                    bound = LEASE_TTL + 30
                    takeovers.append(await until(taken, bound, "takeover") - killed)
                    appends.append(await until(appended, bound, "first append") - killed)
                await asyncio.sleep(max(0.0, end - time.monotonic()))  # the run's length
            finally:
                stop_posting.set()
                await asyncio.gather(*starting, return_exceptions=True)
                await poster
            want = await sky.all_posted()

            async def complete() -> bool:
                return {i for i, _ in want} <= set(log.item_ids())

            try:
                await until(complete, settle, "every post in the log")
            except TimeoutError as exc:
                notes.append(str(exc))
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
    streams = dict(zip(USERS, sids, strict=True))
    sizes = (workers_n, rate, seconds, every)
    return _results(log, want, streams, (takeovers, appends), notes, sizes)


def _results(
    log: Log,
    want: list[tuple[str, str]],
    streams: dict[str, str],
    times: tuple[list[float], list[float]],
    notes: list[str],
    sizes: tuple[int, int, int, float],
) -> dict[str, Any]:
    """One row: lost / twice / out of order per stream (a batch is appended stream by
    stream, so only each stream's own order is kept), takeover and first-append times."""
    workers_n, rate, seconds, every = sizes
    takeovers, appends = times
    expected = [i for topic in streams for i, t in want if t == topic]
    received = [i for sid in streams.values() for i in log.item_ids(sid)]
    row = delivery(f"{workers_n} workers, owner kill -9 every ~{every:g}s", expected, received)
    event_ids = Counter(str(e.get("eventId")) for e in log.events)
    row.duplicated = max(row.duplicated, sum(n - 1 for n in event_ids.values()))
    row.gaps = sum(1 for e in log.events if e["type"] == "stream:gap")
    row.kills = len(takeovers)
    row.takeover_p50_ms = _ms(percentile(takeovers, 50))
    row.takeover_max_ms = _ms(max(takeovers, default=None))
    row.append_p50_ms = _ms(percentile(appends, 50))
    row.append_max_ms = _ms(max(appends, default=None))
    params = {"workers": workers_n, "posts_per_s": rate, "seconds": seconds,
              "kill_every_s": every, "streams": len(streams), "lease_ttl_s": LEASE_TTL}  # fmt: skip
    return outcome([row], params, notes)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
