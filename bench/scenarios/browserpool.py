"""The browser path's cost: CPU per poll beside the GraphQL poll, and the pool's memory.

fakex runs in its own process with the poll-cost scenario's user (a 20-tweet timeline).
One ``tweet`` stream is polled on the GraphQL path, then another is polled on the browser
path (fakex refuses herald's signed GraphQL with ``signature_refused``; the stream's page
is loaded in the pool and its own GraphQL answers are read). Each poll finds the same 20
tweets (nothing new). CPU per poll: this process's ``time.process_time()`` plus, for the
browser path, the CPU that the Playwright driver and every Chromium process under it spent
during the poll (``/proc``), since that is what a browser poll costs the machine.

Memory: one browser with N pages open on the profile page (N = 1, 5, 10), as the sum of
the proportional set size (PSS, shared pages split between the processes that share them)
and of the resident set size (RSS, shared pages counted in every process) of the browser
and all its helper processes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx

from bench.browser import chromium_path
from bench.common import Options, delete_prefix, median, progress, record
from bench.procs import Children, free_port, pinned, python_module, wait_http
from bench.scenarios.pollcost import COOKIE, USER, _seed
from herald.browser import BrowserPool, PoolLimits, Session
from herald.browser.chromium import descendants, rss_bytes
from herald.config import Settings
from herald.service import Herald

NAME = "browserpool"
PAGE_COUNTS = (1, 5, 10)


def _cpu_of(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _driver_tree() -> list[int]:
    """The Playwright driver (node) under this process, and every process under it."""
    found: list[int] = []
    for pid in descendants(os.getpid()):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text()
        except OSError:
            continue
        if comm.startswith("node"):
            found += [pid, *descendants(pid)]
    return found


def _pss_bytes(pid: int) -> int:
    total = 0
    for each in (pid, *descendants(pid)):
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            continue
    return total


async def _polls(opts: Options, base: str, count: int, path: str) -> dict[str, Any]:
    prefix = opts.prefix(f"{NAME}-{path}")
    settings = Settings(
        redis_url=opts.redis_url,
        redis_prefix=prefix,
        x_base_url=base,
        x_transaction_id=False,
        session_cookie=COOKIE,
        secret_key="bench secret key",
        browser="on" if path == "browser" else "off",
        chromium=chromium_path(),
        browser_after=1,
        browser_probe_every=1000,
    )
    cpu: list[float] = []
    wall: list[float] = []
    seen_path = None
    async with httpx.AsyncClient(base_url=base, timeout=10) as fakex:
        try:
            async with Herald(settings, worker=False, delivery=False) as herald:
                stream = await herald.manager.create("tweet", USER, 60)
                first = await herald.poller.poll(stream["id"])
                if first.outcome != "baseline":
                    raise RuntimeError(f"baseline poll failed: {first.outcome} {first.error}")
                if path == "browser":
                    fault = {"mode": "signature_refused", "count": 1_000_000}
                    (await fakex.post("/_fakex/faults", json=fault)).raise_for_status()
                    await herald.poller.poll(stream["id"])  # the switch (and the launch)
                for _ in range(count):
                    tree = _driver_tree()
                    c, w, b = time.process_time(), time.perf_counter(), _cpu_of(tree)
                    outcome = await herald.poller.poll(stream["id"])
                    browser_cpu = _cpu_of(tree) - b
                    cpu.append(time.process_time() - c + browser_cpu)
                    wall.append(time.perf_counter() - w)
                    if outcome.outcome != "ok":
                        raise RuntimeError(f"poll failed: {outcome.outcome} {outcome.error}")
                seen_path = (await herald.manager.status(stream["id"])).get("path")
        finally:
            await fakex.delete("/_fakex/faults")
            await delete_prefix(opts.redis_url, prefix)
    if seen_path != path:
        raise RuntimeError(f"the polls were served by {seen_path}, not {path}")
    return {
        "path": path,
        "polls": count,
        "cpu_ms_median": round((median(cpu) or 0) * 1000, 3),
        "wall_ms_median": round((median(wall) or 0) * 1000, 3),
    }


async def _memory(base: str, chromium: str, counts: tuple[int, ...]) -> list[dict[str, Any]]:
    rows = []
    for pages in counts:
        pool = BrowserPool(PoolLimits(browsers=1, pages_per_browser=pages), chromium=chromium)
        session = Session("bench", {"auth_token": COOKIE}, base)
        held = []
        try:
            browser = await pool.acquire_browser()
            for _ in range(pages):
                page = await pool.acquire_page(browser, session)
                await page.page.goto(f"{base}/{USER}")
                await page.page.wait_for_function("document.body.dataset.state === 'ready'")
                held.append(page)
            await pool.release_browser(browser)
            pid = pool.status()["browsers"][0]["pid"]
            rows.append(
                {
                    "pages": pages,
                    "pss_mb": round(_pss_bytes(pid) / 2**20, 1),
                    "rss_mb": round(rss_bytes(pid) / 2**20, 1),
                    "processes": 1 + len(descendants(pid)),
                }
            )
            progress(NAME, f"{pages} pages: {rows[-1]['pss_mb']} MB PSS")
        finally:
            for page in held:
                await pool.release_page(page)
            await pool.close_all()
    return rows


async def run(opts: Options) -> dict[str, Any]:
    polls = 5 if opts.quick else 60
    chromium = chromium_path()
    results: dict[str, Any] = {}
    if chromium is None:
        results["skipped"] = {"browser": "chromium not found (install Debian's chromium)"}
        progress(NAME, "SKIPPED: chromium not found")
        record(opts, NAME, results)
        return results
    async with Children() as children:
        port = free_port()
        progress(NAME, "starting the X stand-in (fakex) and posting 20 tweets")
        argv = pinned("1", python_module("herald.testing.fakex", "--port", str(port)))
        fakex = await children.start("fakex", argv)
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/_fakex/requests", 30, fakex)
        await _seed(base)
        load_before = os.getloadavg()[0]
        results["rows"] = []
        for path in ("graphql", "browser"):
            progress(NAME, f"{polls} {path}-path polls finding the same 20 tweets")
            results["rows"].append(await _polls(opts, base, polls, path))
            progress(NAME, f"{path}: {results['rows'][-1]['cpu_ms_median']} ms CPU per poll")
        graphql, browser = results["rows"]
        if graphql["cpu_ms_median"]:
            results["ratio_cpu"] = round(browser["cpu_ms_median"] / graphql["cpu_ms_median"], 1)
            results["ratio_wall"] = round(browser["wall_ms_median"] / graphql["wall_ms_median"], 1)
        progress(NAME, "pool memory with some pages open")
        results["memory"] = await _memory(
            base, chromium, PAGE_COUNTS[:2] if opts.quick else PAGE_COUNTS
        )
        results["load"] = {"before": load_before, "after": os.getloadavg()[0]}
    record(opts, NAME, results)
    return results
