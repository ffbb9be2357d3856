"""The dashboard under load: the page in headless Chromium while events stream in.

A real ``herald serve --no-worker`` on the server core and the producer on the client core
append tweet events at fixed rates; the page (Debian's chromium, through Playwright) is
subscribed like any user's. At each rate: how many times a second the page drew (its render
loop's own count), the longest its main thread stalled (a 50 ms timer's worst lateness), how
long after the last append the page had every event, the CPU Chromium used per second of
the run, and the page's JavaScript heap after it (its buffers are capped, so it must not
grow with the number of events).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from bench.browser import _chromium_cpu, chromium_path
from bench.common import CLIENT_CORE, Options, progress, record
from bench.procs import Children, pinned, python_module
from bench.servers import start_herald

NAME = "dashboard"
GOAL_RENDERS = 5.0  # per second: the page aims at 4
GOAL_STALL_MS = 250.0
GOAL_RATE = 1000

LAG_PROBE = """
window.__lag = { max: 0 };
let __last = performance.now();
setInterval(() => {
  const now = performance.now();
  window.__lag.max = Math.max(window.__lag.max, now - __last - 50);
  __last = now;
}, 50);
"""

LIVE = "document.getElementById('connection').textContent === 'live'"
SAMPLE = """() => ({
  renders: window.heraldDashboard.renderer.renders,
  spent: window.heraldDashboard.renderer.spent,
  longest: window.heraldDashboard.renderer.longest,
  received: window.heraldDashboard.state.received,
  at: performance.now(),
  stall: window.__lag.max,
  heap: performance.memory ? performance.memory.usedJSHeapSize : null,
})"""


def _cpu() -> float:
    return sum(_chromium_cpu().values())


async def _wait_received(page: Any, count: int, timeout: float) -> float:
    """Seconds until the page has received ``count`` live events (polled every 20 ms)."""
    started = time.perf_counter()
    while True:
        got = await page.evaluate("window.heraldDashboard.state.received")
        if got >= count:
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"the page received {got} of {count} events")
        await asyncio.sleep(0.02)


async def run(opts: Options) -> dict[str, Any]:
    if chromium_path() is None:
        results: dict[str, Any] = {"skipped": "chromium not found (install Debian's chromium)"}
        record(opts, NAME, results)
        return results
    from playwright.async_api import async_playwright

    rates = [1000] if opts.quick else [250, 1000, 2000]
    seconds = 2.0 if opts.quick else 5.0
    prefix = opts.prefix(NAME)
    rows: list[dict[str, Any]] = []
    async with Children() as children, async_playwright() as pw:
        progress(NAME, "starting herald serve --no-worker, the producer and chromium")
        _, base = await start_herald(children, opts, prefix, HERALD_CLIENT_QUEUE="5000")
        producer = await children.start(
            "producer",
            pinned(CLIENT_CORE, python_module("bench.producer", opts.redis_url, prefix)),
            control=True,
        )
        await producer.receive(30)
        browser = await pw.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--enable-precise-memory-info"]
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.add_init_script(LAG_PROBE)
            await page.goto(base + "/")
            await page.wait_for_function(LIVE)
            for rate in rates:
                progress(NAME, f"{rate} events/s for {seconds:g}s into the page")
                await page.evaluate(
                    "window.__lag.max = 0; window.heraldDashboard.renderer.longest = 0"
                )
                before = await page.evaluate(SAMPLE)
                cpu0 = _cpu()
                sent = await producer.ask({"cmd": "rate", "rate": rate, "seconds": seconds}, 120)
                catch_up = await _wait_received(page, before["received"] + sent["new"], 60)
                after = await page.evaluate(SAMPLE)
                cpu = _cpu() - cpu0
                wall = (after["at"] - before["at"]) / 1000
                renders = after["renders"] - before["renders"]
                rows.append(
                    {
                        "rate": rate,
                        "events": sent["new"],
                        "achieved_rate": round(sent["new"] / max(sent["t1"] - sent["t0"], 1e-9)),
                        "renders_per_second": round(renders / wall, 2),
                        "max_stall_ms": round(after["stall"], 1),
                        "longest_render_ms": round(after["longest"], 1),
                        "render_ms_per_second": round((after["spent"] - before["spent"]) / wall, 1),
                        "catch_up_ms": round(catch_up * 1000, 1),
                        "chromium_cpu_per_second": round(cpu / wall, 3),
                        "heap_mb": round(after["heap"] / 1e6, 1) if after["heap"] else None,
                    }
                )
                progress(NAME, str(rows[-1]))
        finally:
            await browser.close()
    results = {
        "rows": rows,
        "seconds": seconds,
        "goal_renders_per_second": GOAL_RENDERS,
        "goal_stall_ms": GOAL_STALL_MS,
        "goal_rate": GOAL_RATE,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    record(opts, NAME, results)
    return results
