"""RSS poll cost: CPU per poll of an ``rss:feed`` stream against the local feed stand-in,
for the two cases that matter: the feed did not change (a conditional GET answered 304, no
parse) and it did (a 200: download, parse, diff). The 200 case serves the recording as it
is under a new ETag (nothing new is found); "200 + 1 new" adds an entry before each poll, so
one ``stream:entry:new`` is also recorded.

fakefeed runs in its own process serving the recorded feeds; the poller runs in this one,
and ``time.process_time()`` around each ``Poller.poll`` counts this process's CPU only. The
stand-in's control calls (adding the entry) happen outside the measured span.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import Options, delete_prefix, median, progress, record, skipped
from bench.procs import Children, free_port, pinned, python_module, wait_http
from herald.config import Settings
from herald.service import Herald
from herald.testing.fakefeed import default_fixtures

NAME = "pollcost_rss"
NEW_POLLS = 20
"""Polls that each add an entry: the feed grows by at most this many small entries."""
FEEDS = ("heise", "guardian")
"""A small Atom feed (15 entries, 21 KB) and a large RSS 2.0 one (55 entries, 151 KB)."""


async def _change(control: httpx.AsyncClient, feed: str, case: str, i: int) -> None:
    """Before a measured poll (not measured): nothing (304), a new ETag on the recorded
    content (200), or one new entry in front (200 + 1 new)."""
    if case == "200":
        (await control.post(f"/_fakefeed/feeds/{feed}/etag")).raise_for_status()
    elif case == "200 + 1 new":
        body = {"title": f"bench entry {i}", "summary": "A new entry. " * 40}
        (await control.post(f"/_fakefeed/feeds/{feed}/entries", json=body)).raise_for_status()


async def _measure(
    herald: Herald, control: httpx.AsyncClient, stream: str, feed: str, case: str, polls: int
) -> tuple[float, float]:
    """One run: the median CPU and wall seconds of ``polls`` polls of one case."""
    cpu: list[float] = []
    wall: list[float] = []
    for i in range(polls):
        await _change(control, feed, case, i)
        c, w = time.process_time(), time.perf_counter()
        outcome = await herald.poller.poll(stream)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
        expected = 1 if case == "200 + 1 new" else 0
        if outcome.outcome != "ok" or outcome.events != expected:
            raise RuntimeError(f"poll: {outcome.outcome} {outcome.events} {outcome.error}")
    return median(cpu) or 0.0, median(wall) or 0.0


async def _polls(
    opts: Options, base: str, feed: str, count: int, rounds: int
) -> list[dict[str, Any]]:
    prefix = opts.prefix(NAME)
    settings = Settings(redis_url=opts.redis_url, redis_prefix=prefix, min_interval=1)
    rows: list[dict[str, Any]] = []
    try:
        async with (
            Herald(settings, worker=False, delivery=False) as herald,
            httpx.AsyncClient(base_url=base, timeout=10) as control,
        ):
            size = len((await control.get(f"/feeds/{feed}")).content)
            listed = (await control.get("/_fakefeed/feeds")).json()["feeds"]
            shown = next(f["entries"] for f in listed if f["name"] == feed)
            stream = await herald.manager.create("rss:feed", f"{base}/feeds/{feed}", 60)
            first = await herald.poller.poll(stream["id"])
            if first.outcome != "baseline":
                raise RuntimeError(f"baseline poll failed: {first.outcome} {first.error}")
            plan = (("304", count, rounds), ("200", count, rounds), ("200 + 1 new", NEW_POLLS, 1))
            for case, polls, runs in plan:
                cpu_runs: list[float] = []
                wall_runs: list[float] = []
                for _ in range(runs):
                    cpu, wall = await _measure(herald, control, stream["id"], feed, case, polls)
                    cpu_runs.append(cpu)
                    wall_runs.append(wall)
                rows.append(
                    {
                        "feed": feed,
                        "bytes": size,
                        "entries": shown,
                        "case": case,
                        "polls": polls,
                        "runs": runs,
                        "cpu_ms_runs": [round(c * 1000, 3) for c in cpu_runs],
                        "cpu_ms_median": round((median(cpu_runs) or 0) * 1000, 3),
                        "wall_ms_median": round((median(wall_runs) or 0) * 1000, 3),
                    }
                )
                progress(NAME, f"{feed} {case}: {rows[-1]['cpu_ms_runs']} ms CPU per poll")
    finally:
        await delete_prefix(opts.redis_url, prefix)
    return rows


async def run(opts: Options) -> dict[str, Any]:
    fixtures: Path | None = default_fixtures()
    if fixtures is None:
        return skipped(opts, NAME, "recorded feeds not found (set HERALD_FIXTURES)")
    polls, rounds = (20, 1) if opts.quick else (100, 3)
    rows: list[dict[str, Any]] = []
    async with Children() as children:
        port = free_port()
        progress(NAME, "starting the feed stand-in (fakefeed)")
        argv = pinned(
            "1",
            python_module(
                "herald.testing.fakefeed", "--port", str(port), "--fixtures", str(fixtures)
            ),
        )
        fake = await children.start("fakefeed", argv)
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/_fakefeed/requests", 30, fake)
        for feed in FEEDS:
            progress(NAME, f"{feed}: {rounds} runs of {polls} polls per case")
            rows += await _polls(opts, base, feed, polls, rounds)
    results: dict[str, Any] = {"rows": rows}
    record(opts, NAME, results)
    return results
