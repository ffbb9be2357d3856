"""kill -9 of a webhook endpoint's deliverer, again and again, while tweets are posted.

External Redis (the run's own prefix), ``herald fakex``, one ``herald serve --no-worker``
for the API, two or three ``herald worker`` processes (the workers run the webhook
consumers; the endpoint's lease picks one), a few tweet streams, and two endpoints on a
loopback receiver process (:mod:`bench.chaos.receiver`) that verifies every signature with
the Standard Webhooks reference library and records each arrival in order. Tweets are
posted at a steady rate; every few seconds the worker holding an endpoint's lease (the
lease's owner token names its pid) is killed with SIGKILL and a new worker started.

Counted per endpoint against herald's log (``GET /api/events/log``): lost = a matching
``stream:tweet:new`` that never arrived; out of order = a first arrival before an earlier
event of the log; twice = distinct eventIds that arrived more than once; duplicated = the
repeat deliveries themselves (resends). Delivery is at-least-once with one crash window
(after the receiver answered, before the commit), so resends are allowed up to one per
kill of that endpoint's lease holder, and no more. Takeover = kill to another worker
holding the lease; first delivery = kill to the next arrival at that endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from redis.asyncio import Redis

from bench.chaos.logreader import LogReader
from bench.chaos.options import ChaosOptions, outcome
from bench.chaos.pushkill import until
from bench.chaos.stack import Proc, Stack, api, herald_env
from bench.chaos.tally import Row, delivery
from bench.chaos.workerkill import settle
from bench.chaos.world import World
from bench.common import percentile, progress
from bench.procs import free_port
from herald.store.keys import Keys
from herald.webhooks.signing import new_secret

NAME = "webhookkill"
LEASE_TTL = 2.0
TWEET = "stream:tweet:new"


class Arrivals:
    """The receiver's record (one JSON line per arrival), read again on each look."""

    def __init__(self, path: Path, *, broken: bool = False) -> None:
        self.path = path
        self.broken = broken
        """Drop the third arrival read: the harness's own check (it must count one lost)."""

    def all(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = [json.loads(x) for x in self.path.read_text().splitlines() if x.strip()]
        if self.broken and len(lines) >= 3:
            del lines[2]
        return lines

    def of(self, endpoint: str) -> list[dict[str, Any]]:
        return [a for a in self.all() if a["endpoint"] == endpoint]


class Leases:
    """Who delivers each endpoint: the lease's owner token is ``host:pid:uuid``."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis, self.keys = redis, Keys(prefix)

    async def pid(self, endpoint: str) -> int | None:
        owner = await self.redis.get(self.keys.webhook_lease(endpoint))
        if owner is None:
            return None
        parts = owner.decode().split(":")
        return int(parts[-2]) if len(parts) >= 3 and parts[-2].isdigit() else None


class Killer:
    """Kills the lease holder of each endpoint in turn and starts a new worker; measures
    the takeover and the first delivery after, and counts the leases each kill ended."""

    def __init__(
        self, stack: Stack, workers: list[Proc], leases: Leases, arrivals: Arrivals,
        hooks: list[str],
    ) -> None:  # fmt: skip
        self.stack, self.workers, self.leases, self.arrivals = stack, workers, leases, arrivals
        self.hooks = hooks
        self.kills = 0
        self.held: Counter[str] = Counter()  # endpoint -> kills of its lease holder
        self.takeovers: dict[str, list[float]] = {h: [] for h in hooks}
        self.firsts: dict[str, list[float]] = {h: [] for h in hooks}
        self.starting: set[asyncio.Task[None]] = set()

    async def _replace(self) -> None:
        try:
            self.workers.append(await self.stack.start_worker())
        except (RuntimeError, TimeoutError) as exc:  # one fewer worker; the run goes on
            progress(NAME, f"a replacement worker did not start: {exc}")

    async def once(self) -> None:
        hook = self.hooks[self.kills % len(self.hooks)]
        leases, arrivals = self.leases, self.arrivals

        async def holder() -> bool:
            return await leases.pid(hook) is not None

        await until(holder, 30, "a lease holder before the kill")
        pid = await leases.pid(hook)
        victim = next((w for w in self.workers if w.proc.pid == pid), None)
        if victim is None:
            raise RuntimeError(f"the lease holder {pid} is none of the workers")
        mine = [h for h in self.hooks if await leases.pid(h) == pid]
        seen = {h: len(arrivals.of(h)) for h in mine}
        self.workers.remove(victim)
        await self.stack.kill9(victim)
        killed = time.monotonic()
        self.kills += 1
        self.held.update(mine)
        self.starting.add(asyncio.create_task(self._replace()))
        for h in mine:

            async def taken(h: str = h) -> bool:
                return await leases.pid(h) not in (None, pid)

            async def arrived(h: str = h) -> bool:
                return len(arrivals.of(h)) > seen[h]

            self.takeovers[h].append(await until(taken, 30, "takeover") - killed)
            self.firsts[h].append(await until(arrived, 30, "first delivery") - killed)


def matching(events: list[dict[str, Any]], stream_ids: set[str]) -> list[str]:
    """The eventIds an endpoint's selector matches, in log order."""
    return [
        str(e["eventId"])
        for e in events
        if e.get("type") == TWEET and e.get("streamId") in stream_ids
    ]


async def run(opts: ChaosOptions) -> dict[str, Any]:
    workers_n = opts.size("workers", 2, 3)
    streams_n = opts.size("streams", 4, 4)
    rate = opts.size("rate", 20, 20)
    seconds = opts.size("seconds", 15, 60)
    every = opts.size("kill_every", 3.0, 4.0)
    rng = random.Random(opts.seed)
    prefix = opts.prefix(NAME)
    env = herald_env(
        REDIS_URL=opts.redis_url,
        HERALD_REDIS_PREFIX=prefix,
        HERALD_RECONCILE_INTERVAL="2",
        HERALD_WEBHOOKS_ALLOW_PRIVATE="true",
        HERALD_WEBHOOKS_LEASE_TTL=str(LEASE_TTL),
        HERALD_WEBHOOKS_SCHEDULE="0.2,0.5,1,2,5,10,30",
        HERALD_SECRET_KEY=Fernet.generate_key().decode(),
    )
    hooks = {"wh-all": new_secret(), "wh-half": new_secret()}
    notes: list[str] = []
    async with Stack(env) as stack:
        port = free_port()
        out = stack.dir / "arrivals.jsonl"
        await stack.start_process(
            "receiver",
            [sys.executable, "-m", "bench.chaos.receiver", str(port), str(out)],
            {"CHAOS_WEBHOOK_SECRETS": json.dumps(hooks)},
            "receiver listening",
        )
        arrivals = Arrivals(out, broken=opts.broken)
        await stack.start_fakex()
        await stack.start_serve("--no-worker")
        workers: list[Proc] = list(
            await asyncio.gather(*(stack.start_worker() for _ in range(workers_n)))
        )
        reader = LogReader(stack.base)
        await reader.start()
        redis = Redis.from_url(opts.redis_url)
        leases = Leases(redis, prefix)
        try:
            world = World(stack.fakex, stack.base, streams_n, "wh")
            await world.create(interval=1)
            sids = sorted(world.streams)
            scope = {"wh-all": set(sids), "wh-half": set(sids[: max(1, len(sids) // 2)])}
            for hook, secret in hooks.items():
                body = {
                    "id": hook,
                    "url": f"http://127.0.0.1:{port}/hook/{hook}",
                    "secret": secret,
                    "selector": {"streamIds": sorted(scope[hook]), "types": [TWEET]},
                }
                await api(stack.base, "POST", "/api/webhooks", json=body)
            await world.wait_baselines(60)

            async def leased() -> bool:
                return all([await leases.pid(h) is not None for h in hooks])

            await until(leased, 30, "every endpoint leased")
            progress(NAME, f"{workers_n} workers, {len(hooks)} endpoints; {rate} tweets/s")
            poster = asyncio.create_task(world.post_at(rate, seconds, rng))

            killer = Killer(stack, workers, leases, arrivals, list(hooks))
            try:
                end = time.monotonic() + seconds
                while time.monotonic() + every < end:
                    await asyncio.sleep(every * rng.uniform(0.8, 1.2))  # pacing the kills
                    await killer.once()
                await poster
            finally:
                poster.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poster
                await asyncio.gather(*killer.starting, return_exceptions=True)
            if not await settle(world, reader, opts.size("settle", 30, 60)):
                notes.append("not every posted tweet reached the log within the settle time")
            log_events = list(reader.events)

            async def delivered() -> bool:
                got = {a["id"] for a in arrivals.all()}
                return all(set(matching(log_events, scope[h])) <= got for h in hooks)

            try:
                await until(delivered, opts.size("settle", 30, 60), "every event delivered")
            except TimeoutError as exc:
                notes.append(str(exc))
            got = {h: arrivals.of(h) for h in hooks}  # the stack's dir goes on exit
        finally:
            await reader.close()
            await redis.aclose()
    rows = []
    for h in hooks:
        row = _row(h, matching(log_events, scope[h]), got[h], log_events, killer.held[h])
        row.kills = killer.kills
        row.takeover_p50_ms = _ms(percentile(killer.takeovers[h], 50))
        row.takeover_max_ms = _ms(max(killer.takeovers[h], default=None))
        row.delivery_p50_ms = _ms(percentile(killer.firsts[h], 50))
        row.delivery_max_ms = _ms(max(killer.firsts[h], default=None))
        rows.append(row)
    params = {"workers": workers_n, "streams": streams_n, "endpoints": len(hooks),
              "tweets_per_s": rate, "seconds": seconds, "kill_every_s": every,
              "lease_ttl_s": LEASE_TTL}  # fmt: skip
    return outcome(rows, params, notes)


def _row(
    hook: str,
    expected: list[str],
    got: list[dict[str, Any]],
    log_events: list[dict[str, Any]],
    bound: int,
) -> Row:
    """One endpoint: ``delivery`` over the webhook-ids (events of other types that the
    selector lets through are left out), plus twice, the resend bound, bad signatures."""
    others = {str(e.get("eventId")) for e in log_events} - set(expected)
    received = [str(a["id"]) for a in got if str(a["id"]) not in others]
    row = delivery(f"endpoint {hook}, lease holder kill -9", expected, received)
    counts = Counter(received)
    row.twice = sum(1 for n in counts.values() if n > 1)
    row.resend_bound = bound
    row.unverified = sum(1 for a in got if not a["ok"] or a["eventId"] != a["id"])
    return row


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
