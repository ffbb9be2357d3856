"""kill -9 of a push connection's owner, again and again, while its upstream is posted to.

External Redis (the run's own prefix), three ``herald worker`` processes with one push
source (``python -m bench.chaos.pushfeed``) reading a feed served over a real WebSocket
by this process; the feed replays from a cursor, as Bluesky's Jetstream does, so a
takeover must lose nothing and double nothing. A few ``chaos:item`` streams share the one
connection. Items are published at a steady rate; every few seconds the worker that owns
the connection (the lease's owner, ``connection.owner`` of a stream's status) is killed
with SIGKILL and a new worker started. Per kill: the time until another worker holds the
connection and is connected (takeover), and until the first item reaches the log after
the kill (first append). At the end, once every published item is in the log (or the
settle time is up), the log is counted against what was published.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from bench.chaos import pushfeed
from bench.chaos.options import ChaosOptions, outcome
from bench.chaos.stack import Proc, Stack
from bench.chaos.tally import delivery
from bench.common import percentile, progress
from herald.config import Settings
from herald.push.memory import MemoryFeed
from herald.push.replay import serve_feed
from herald.service import Herald
from herald.sources import catalog

NAME = "pushkill"
LEASE_TTL = 2.0
TOPICS = ("a", "b", "c", "d", "e")
MESSAGE = "stream:message:new"


def worker_env(opts: ChaosOptions, url: str) -> dict[str, str]:
    """Short leases and checks, so that a takeover is quick (as in the takeover tests)."""
    return {
        "REDIS_URL": opts.redis_url,
        "HERALD_REDIS_PREFIX": opts.prefix(NAME),
        "HERALD_PUSH_LEASE_TTL": str(LEASE_TTL),
        "HERALD_PUSH_CHECK_INTERVAL": "0.2",
        "HERALD_PUSH_BACKOFF": "0.1",
        "HERALD_RECONCILE_INTERVAL": "1",
        "HERALD_WORKER_HEARTBEAT_TTL": "2",
        "CHAOS_FEED_URL": url,
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
        self.broken = broken
        """Drop the third message read: the harness's own check (it must count one lost)."""
        self.events: list[dict[str, Any]] = []
        self._after: str | None = None

    async def follow(self) -> None:
        while True:
            bodies = await self.herald.log.read(self._after, 1000)
            if not bodies:
                await asyncio.sleep(0.05)  # the reading pace
                continue
            self._after = str(bodies[-1]["offset"])
            self.events += [b for b in bodies if b.get("streamId") in self.stream_ids]
            messages = [i for i, e in enumerate(self.events) if e["type"] == MESSAGE]
            if self.broken and len(messages) >= 3:
                del self.events[messages[2]]
                self.broken = False

    def item_ids(self, stream_id: str | None = None) -> list[str]:
        """The item ids of the message events (of one stream), in log order."""
        return [
            str(e["message"]["id"])
            for e in self.events
            if e["type"] == MESSAGE and stream_id in (None, e["streamId"])
        ]


class Workers:
    """The worker processes by the worker id each says it has when ready."""

    def __init__(self, stack: Stack, env: dict[str, str]) -> None:
        self.stack, self.env = stack, env
        self.by_id: dict[str, Proc] = {}

    async def start(self) -> None:
        argv = [sys.executable, "-m", "bench.chaos.pushfeed"]
        proc = await self.stack.start_process("herald worker", argv, "ready ", self.env)
        said = re.search(r"^ready (\S+)$", proc.log.read_text(errors="replace"), re.M)
        if said is None:
            raise RuntimeError(f"worker pid {proc.proc.pid} did not say its id")
        self.by_id[said.group(1)] = proc

    async def kill9(self, owner: str) -> bool:
        proc = self.by_id.pop(owner, None)
        if proc is None:
            return False
        await self.stack.kill9(proc)
        return True


async def _publish(
    feed: MemoryFeed, rate: int, posted: list[tuple[str, str]], rng: random.Random
) -> None:
    """``rate`` items a second (in ten steps), each to a random topic, until cancelled."""
    start = time.monotonic()
    while True:
        due = int((time.monotonic() - start) * rate) + 1
        while len(posted) < due:
            topic = rng.choice(TOPICS)
            posted.append((str(feed.publish(topic, "chaos")), topic))
        await asyncio.sleep(0.1)  # the publishing pace


async def run(opts: ChaosOptions) -> dict[str, Any]:
    workers_n = opts.size("workers", 3, 3)
    rate = opts.size("rate", 50, 100)
    seconds = opts.size("seconds", 25, 120)
    every = opts.size("kill_every", 3.0, 5.0)
    settle = opts.size("settle", 30, 60)
    rng = random.Random(opts.seed)
    feed = MemoryFeed()
    posted: list[tuple[str, str]] = []  # (item id, topic), in publishing order
    takeovers: list[float] = []
    appends: list[float] = []
    notes: list[str] = []
    with catalog.platform(pushfeed):
        async with serve_feed(feed) as url, Stack(worker_env(opts, url)) as stack:
            workers = Workers(stack, stack.env)
            await asyncio.gather(*(workers.start() for _ in range(workers_n)))
            settings = Settings(redis_url=opts.redis_url, redis_prefix=opts.prefix(NAME))
            ctl = Herald(settings, sources=[pushfeed.source(url)], worker=False, delivery=False)
            async with ctl:
                sids = [
                    str((await ctl.manager.create(pushfeed.TYPE, target=t))["id"]) for t in TOPICS
                ]
                log = Log(ctl, set(sids), broken=opts.broken)

                async def connection() -> dict[str, Any]:
                    return dict((await ctl.manager.status(sids[0]))["connection"])

                async def connected() -> bool:
                    return bool((await connection())["connected"])

                await until(connected, 60, "a worker holds the connection")
                progress(NAME, f"{workers_n} workers; {rate} items/s for {seconds}s")
                reader = asyncio.create_task(log.follow())
                publisher = asyncio.create_task(_publish(feed, rate, posted, rng))
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
                    publisher.cancel()
                    await asyncio.gather(*starting, return_exceptions=True)
                want = list(posted)

                async def complete() -> bool:
                    return {i for i, _ in want} <= set(log.item_ids())

                try:
                    await until(complete, settle, "every published item in the log")
                except TimeoutError as exc:
                    notes.append(str(exc))
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
    streams = dict(zip(TOPICS, sids, strict=True))
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
    params = {"workers": workers_n, "items_per_s": rate, "seconds": seconds,
              "kill_every_s": every, "streams": len(TOPICS), "lease_ttl_s": LEASE_TTL}  # fmt: skip
    return outcome([row], params, notes)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
