"""The browser side of the poll-cost comparison: a headless-Chromium load of a local page.

The page holds the same UserTweets JSON the poller fetched and renders its 20 tweets
client-side (the way x.com's app does, minus its megabytes of JavaScript, so this is the
cheapest a browser poll could be). CPU is the user+sys time of every Chromium process
started under this one, before and after the loads, read from /proc; processes that exit
in between are not counted, which again flatters the browser.
"""

from __future__ import annotations

import html
import os
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import median

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>@{user}</title>
<style>article{{border-bottom:1px solid #ddd;padding:12px;font:15px sans-serif}}</style>
</head><body><main id="timeline"></main>
<script id="data" type="application/json">{data}</script>
<script>
const data = JSON.parse(document.getElementById("data").textContent);
const found = [];
(function walk(o) {{
  if (o && typeof o === "object") {{
    if (o.rest_id && o.legacy && o.legacy.full_text) found.push(o);
    for (const k in o) walk(o[k]);
  }}
}})(data);
const main = document.getElementById("timeline");
for (const t of found) {{
  const a = document.createElement("article");
  a.innerHTML = "<b>@{user}</b> <time></time><p></p>";
  a.querySelector("time").textContent = t.legacy.created_at;
  a.querySelector("p").textContent = t.legacy.full_text;
  main.appendChild(a);
}}
</script></body></html>"""


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == pid]
        out.extend(kids)
        frontier.extend(kids)
    return out


def _chromium_cpu() -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = {}
    for pid in _descendants(os.getpid()):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            if "chrom" not in comm:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return cpu


def _serve(body: bytes) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


async def page_loads(raw_json: str, user: str, loads: int) -> dict[str, Any]:
    """Load the page ``loads`` times in a fresh tab each; CPU and wall time per load."""
    from playwright.async_api import async_playwright

    body = PAGE.format(user=html.escape(user), data=raw_json.replace("</", "<\\/")).encode()
    server, url = _serve(body)
    walls: list[float] = []
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(), headless=True)
            context = await browser.new_context()
            for warm in range(2):  # not measured: first-use costs of the browser
                page = await context.new_page()
                await page.goto(url + f"?warm={warm}")
                await page.close()
            before = _chromium_cpu()
            for i in range(loads):
                t = time.perf_counter()
                page = await context.new_page()
                await page.goto(url + f"?n={i}", wait_until="load")
                await page.wait_for_function("document.querySelectorAll('article').length >= 20")
                await page.close()
                walls.append(time.perf_counter() - t)
            after = _chromium_cpu()
            await browser.close()
    finally:
        server.shutdown()
    cpu = sum(after[p] - before.get(p, 0.0) for p in after)
    return {
        "loads": loads,
        "cpu_ms_per_load": round(cpu / loads * 1000, 2),
        "wall_ms_median": round((median(walls) or 0) * 1000, 2),
    }
