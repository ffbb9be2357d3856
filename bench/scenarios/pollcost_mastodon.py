"""Poll cost of Mastodon streams: CPU per poll (fetch + parse + diff + state writes) against
``herald fakedon``, beside X's poll cost (``pollcost``).

fakedon runs in its own process, built from the recorded cassettes (``HERALD_FIXTURES``, or
``../shared/fixtures`` beside the repo), with a bench account holding 20 statuses and 20
followers. The poller runs in this process: ``time.process_time()`` around each
``Poller.poll`` counts this process's CPU only. Three cases, each after its baseline:

- ``status, nothing new``: one ``since_id`` request answering an empty page;
- ``public, 20 new``: a local timeline page of 20 statuses posted since the last poll
  (posted before the clock starts), each parsed, diffed and appended as an event;
- ``follower, nothing new``: the account (exact count) and the newest followers page.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import Options, delete_prefix, median, progress, record, skipped
from bench.procs import Children, free_port, herald_cli, pinned, wait_http
from herald.config import Settings
from herald.service import Herald

NAME = "pollcost_mastodon"
USER = "benchdon"
REPO = Path(__file__).resolve().parents[2]


def cassettes() -> Path | None:
    root = Path(os.environ.get("HERALD_FIXTURES", REPO.parent / "shared" / "fixtures"))
    folder = root / "mastodon"
    return folder if folder.is_dir() else None


async def _seed(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        # a real instance allows 300 calls per 5 minutes; the bench measures CPU, not budgets
        budget = {"limit": 1_000_000, "remaining": 1_000_000, "resetIn": 3600}
        (await client.post("/_fakedon/ratelimit", json=budget)).raise_for_status()
        (await client.post("/_fakedon/accounts", json={"username": USER})).raise_for_status()
        for i in range(20):
            text = f"Status {i + 1} from @{USER}: a realistic line of text with #bench and a link"
            body = {"account": USER, "text": text}
            (await client.post("/_fakedon/statuses", json=body)).raise_for_status()
            follower = {"username": f"{USER}_fan{i}"}
            (
                await client.post(f"/_fakedon/accounts/{USER}/followers", json=follower)
            ).raise_for_status()


async def _post20(base: str, round_: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for i in range(20):
            text = f"Round {round_} status {i}: a realistic line of text with #bench"
            body = {"account": USER, "text": text}
            (await client.post("/_fakedon/statuses", json=body)).raise_for_status()


async def _case(
    herald: Herald, base: str, kind: str, target: str, count: int, **create: Any
) -> dict[str, Any]:
    stream = await herald.manager.create(kind, target, 60, **create)
    first = await herald.poller.poll(stream["id"])
    if first.outcome != "baseline":
        raise RuntimeError(f"{kind} baseline failed: {first.outcome} {first.error}")
    cpu: list[float] = []
    wall: list[float] = []
    events = 0
    for round_ in range(count):
        if kind == "mastodon:public":
            await _post20(base, round_)
        c, w = time.process_time(), time.perf_counter()
        outcome = await herald.poller.poll(stream["id"])
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
        if outcome.outcome != "ok":
            raise RuntimeError(f"{kind} poll failed: {outcome.outcome} {outcome.error}")
        events += outcome.events
    return {
        "polls": count,
        "events": events,
        "cpu_ms_median": round((median(cpu) or 0) * 1000, 3),
        "wall_ms_median": round((median(wall) or 0) * 1000, 3),
    }


async def run(opts: Options) -> dict[str, Any]:
    folder = cassettes()
    if folder is None:
        skipped(opts, NAME, "Mastodon cassettes not found (set HERALD_FIXTURES)")
        return {}
    polls = 20 if opts.quick else 100
    results: dict[str, Any] = {}
    prefix = opts.prefix(NAME)
    async with Children() as children:
        port = free_port()
        progress(NAME, "starting the Mastodon stand-in (fakedon) with 20 statuses, 20 followers")
        argv = pinned("1", herald_cli("fakedon", "--fixtures", str(folder), "--port", str(port)))
        don = await children.start("fakedon", argv)
        base = f"http://127.0.0.1:{port}"
        host = f"127.0.0.1:{port}"
        await wait_http(base + "/_fakedon/requests", 30, don)
        await _seed(base)
        settings = Settings(
            redis_url=opts.redis_url, redis_prefix=prefix, secret_key="bench secret key"
        )
        try:
            async with Herald(settings, worker=False, delivery=False) as herald:
                cases = {
                    "status, nothing new": ("mastodon:status", f"{USER}@{host}", {}),
                    "public, 20 new": ("mastodon:public", host, {"options": {"local": True}}),
                    "follower, nothing new": ("mastodon:follower", f"{USER}@{host}", {}),
                }
                for label, (kind, target, extra) in cases.items():
                    progress(NAME, f"{polls} polls: {label}")
                    results[label] = await _case(herald, base, kind, target, polls, **extra)
                    progress(NAME, f"{label}: {results[label]['cpu_ms_median']} ms CPU per poll")
        finally:
            await delete_prefix(opts.redis_url, prefix)
    record(opts, NAME, results)
    return results
