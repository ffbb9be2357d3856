"""Poll cost: CPU per poll (fetch + parse + diff) against the local X stand-in, next to a
headless-Chromium load of an equivalent page.

fakex runs in its own process with a user holding a 20-tweet timeline, 20 tweets that
mention it and carry a hashtag. The poller runs in this process: ``time.process_time()``
around each ``Poller.poll`` of one stream (after the baseline poll) counts this process's
CPU only, so fakex's work is left out. Each stream type in ``ROWS`` is measured the same way
(a poll that finds the same 20 items again, nothing new); a platform adds its row there. See
``bench.browser`` for how the browser side is measured.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.browser import chromium_path, page_loads
from bench.common import Options, delete_prefix, median, progress, record
from bench.procs import Children, free_port, pinned, python_module, wait_http
from herald.config import Settings
from herald.service import Herald

NAME = "pollcost"
USER = "benchpoll"
COOKIE = "bench-session"
GOAL_MS = 5.0
GOAL_RATIO = 100.0
TAG = "#heraldbench"


@dataclass(frozen=True)
class Row:
    """One stream type whose poll is measured: the label in the table, the type, its target."""

    label: str
    type: str
    target: str


ROWS = (
    Row("X tweet", "tweet", USER),
    Row("X mention", "mention", USER),
    Row("X search", "x:search", TAG),
)


async def _seed(base: str) -> str:
    """A user with 20 tweets; returns the raw UserTweets JSON a poll fetches."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        user = (await client.post("/_fakex/users", json={"username": USER})).json()
        for i in range(20):
            text = f"Tweet {i + 1} from @{USER}: a realistic line of text with a link https://t.co/x{i}"
            (
                await client.post(f"/_fakex/users/{USER}/tweets", json={"text": text})
            ).raise_for_status()
        await client.post("/_fakex/users", json={"username": f"{USER}fan"})
        for i in range(20):  # found by the mention search and the hashtag search
            text = f"@{USER} reply {i + 1}: a realistic line of text {TAG} https://t.co/y{i}"
            (
                await client.post(f"/_fakex/users/{USER}fan/tweets", json={"text": text})
            ).raise_for_status()
        ct0 = "c0ffee" * 8
        client.cookies.update({"auth_token": COOKIE, "ct0": ct0})
        user_id = user["id"]
        params = {"variables": json.dumps({"userId": user_id, "count": 20}), "features": "{}"}
        raw = await client.get(
            "/i/api/graphql/bench/UserTweets", params=params, headers={"x-csrf-token": ct0}
        )
        raw.raise_for_status()
        return raw.text


async def _polls(opts: Options, base: str, count: int, row: Row) -> dict[str, Any]:
    prefix = opts.prefix(f"{NAME}-{row.type.replace(':', '-')}")
    settings = Settings(
        redis_url=opts.redis_url,
        redis_prefix=prefix,
        x_base_url=base,
        session_cookie=COOKIE,
        secret_key="bench secret key",
    )
    cpu: list[float] = []
    wall: list[float] = []
    try:
        async with Herald(settings, worker=False, delivery=False) as herald:
            stream = await herald.manager.create(row.type, row.target, 60)
            first = await herald.poller.poll(stream["id"])
            if first.outcome != "baseline":
                raise RuntimeError(f"baseline poll failed: {first.outcome} {first.error}")
            for _ in range(count):
                c, w = time.process_time(), time.perf_counter()
                outcome = await herald.poller.poll(stream["id"])
                cpu.append(time.process_time() - c)
                wall.append(time.perf_counter() - w)
                if outcome.outcome != "ok":
                    raise RuntimeError(f"poll failed: {outcome.outcome} {outcome.error}")
    finally:
        await delete_prefix(opts.redis_url, prefix)
    return {
        "label": row.label,
        "type": row.type,
        "polls": count,
        "cpu_ms_median": round((median(cpu) or 0) * 1000, 3),
        "wall_ms_median": round((median(wall) or 0) * 1000, 3),
    }


async def run(opts: Options) -> dict[str, Any]:
    polls, loads = (30, 5) if opts.quick else (200, 20)
    results: dict[str, Any] = {"goal": {"cpu_ms": GOAL_MS, "ratio": GOAL_RATIO}}
    async with Children() as children:
        port = free_port()
        progress(NAME, "starting the X stand-in (fakex) and posting 20 tweets")
        argv = pinned("1", python_module("herald.testing.fakex", "--port", str(port)))
        fakex = await children.start("fakex", argv)
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/_fakex/requests", 30, fakex)
        raw = await _seed(base)
        results["rows"] = []
        load_before = os.getloadavg()[0]
        for row in ROWS:
            progress(NAME, f"{polls} polls of a {row.label} stream finding the same 20 items")
            measured = await _polls(opts, base, polls, row)
            results["rows"].append(measured)
            progress(NAME, f"{row.label}: {measured['cpu_ms_median']} ms CPU per poll")
        results["herald"] = results["rows"][0]  # the tweet poll, beside the browser
        # CPU time still grows on a crowded machine (caches, clocks): say how crowded it was
        results["load"] = {"before": load_before, "after": os.getloadavg()[0]}
    if chromium_path() is None:
        results["skipped"] = {"browser": "chromium not found (install Debian's chromium)"}
        progress(NAME, "browser comparison SKIPPED: chromium not found")
    else:
        try:
            progress(NAME, f"{loads} headless-Chromium page loads of the same 20 tweets")
            results["browser"] = await page_loads(raw, USER, loads)
        except Exception as exc:  # a missing or broken browser is a skip, not a crash
            results["skipped"] = {"browser": f"browser run failed: {exc}"}
            progress(NAME, f"browser comparison SKIPPED: {exc}")
    if "browser" in results and results["herald"]["cpu_ms_median"]:
        b, h = results["browser"], results["herald"]
        results["ratio_cpu"] = round(b["cpu_ms_per_load"] / h["cpu_ms_median"], 1)
        results["ratio_wall"] = round(b["wall_ms_median"] / h["wall_ms_median"], 1)
    record(opts, NAME, results)
    return results
