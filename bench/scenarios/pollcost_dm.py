"""Poll cost of an ``x:dm`` stream against the local X stand-in, beside an X ``tweet`` poll.

fakex runs in its own process (its DM answers are synthetic). The poller runs in this
process: ``time.process_time()`` around each ``Poller.poll`` counts this process's CPU only.
Cases, each its own stream, polled after the baseline:

- **x:dm, quiet inbox**: one ``dm/user_updates.json`` request answered with the cursor alone;
- **x:dm, 20 new DMs**: 20 messages sent before each poll (outside the timed part), so each
  poll reads one page of 20 entries and appends 20 ``stream:dm:new`` events;
- **X tweet, nothing new**: the tweet poll of ``pollcost`` (a 20-tweet timeline read again).
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.common import Options, delete_prefix, median, progress, record
from bench.procs import Children, free_port, pinned, python_module, wait_http
from herald.config import Settings
from herald.service import Herald

NAME = "pollcost_dm"
COOKIE = "bench-dm-session"
OWNER = "benchinbox"
NEW_PER_POLL = 20


async def _seed(client: httpx.AsyncClient) -> None:
    await client.post("/_fakex/sessions", json={"authToken": COOKIE, "username": OWNER})
    for i in range(20):
        text = (
            f"Tweet {i + 1} from @{OWNER}: a realistic line of text with a link https://t.co/x{i}"
        )
        r = await client.post(f"/_fakex/users/{OWNER}/tweets", json={"text": text})
        r.raise_for_status()
    for i in range(20):  # an inbox with history: the baseline reads it
        body = {"from": f"friend{i % 4}", "text": f"an older message {i}, a line of text"}
        (await client.post(f"/_fakex/users/{OWNER}/dms", json=body)).raise_for_status()


def _new_dms(client: httpx.AsyncClient) -> Callable[[], Awaitable[None]]:
    async def send() -> None:
        for i in range(NEW_PER_POLL):
            body = {"from": f"friend{i % 4}", "text": f"hello {i}: is the release out yet?"}
            (await client.post(f"/_fakex/users/{OWNER}/dms", json=body)).raise_for_status()

    return send


async def _case(
    opts: Options,
    base: str,
    label: str,
    kind: str,
    target: str,
    polls: int,
    before: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    prefix = opts.prefix(f"{NAME}-{label.replace(' ', '-').replace(',', '')}")
    settings = Settings(
        redis_url=opts.redis_url,
        redis_prefix=prefix,
        x_base_url=base,  # not x.com: requests go unsigned, no switch needed
        session_cookie=COOKIE,
        secret_key="bench secret key",
    )
    cpu: list[float] = []
    wall: list[float] = []
    events = 0
    try:
        async with Herald(settings, worker=False, delivery=False) as herald:
            stream = await herald.manager.create(kind, target, 60)
            first = await herald.poller.poll(stream["id"])
            if first.outcome != "baseline":
                raise RuntimeError(f"baseline poll failed: {first.outcome} {first.error}")
            for _ in range(polls):
                if before is not None:
                    await before()
                c, w = time.process_time(), time.perf_counter()
                outcome = await herald.poller.poll(stream["id"])
                cpu.append(time.process_time() - c)
                wall.append(time.perf_counter() - w)
                if outcome.outcome != "ok":
                    raise RuntimeError(f"poll failed: {outcome.outcome} {outcome.error}")
                events += outcome.events
    finally:
        await delete_prefix(opts.redis_url, prefix)
    return {
        "case": label,
        "polls": polls,
        "events_per_poll": round(events / polls, 1),
        "cpu_ms_median": round((median(cpu) or 0) * 1000, 3),
        "wall_ms_median": round((median(wall) or 0) * 1000, 3),
    }


async def run(opts: Options) -> dict[str, Any]:
    polls = 10 if opts.quick else 150
    results: dict[str, Any] = {"rows": []}
    async with Children() as children:
        port = free_port()
        progress(NAME, "starting the X stand-in (fakex) with an inbox and a timeline")
        argv = pinned("1", python_module("herald.testing.fakex", "--port", str(port)))
        fakex = await children.start("fakex", argv)
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/_fakex/requests", 30, fakex)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            await _seed(client)
            cases: list[tuple[str, str, str, Callable[[], Awaitable[None]] | None]] = [
                ("x:dm, quiet inbox", "x:dm", "me", None),
                (f"x:dm, {NEW_PER_POLL} new DMs", "x:dm", "me", _new_dms(client)),
                ("X tweet, nothing new", "tweet", OWNER, None),
            ]
            for label, kind, target, before in cases:
                progress(NAME, f"{polls} polls: {label}")
                row = await _case(opts, base, label, kind, target, polls, before)
                results["rows"].append(row)
                progress(NAME, f"{label}: {row['cpu_ms_median']} ms CPU per poll")
        results["load"] = os.getloadavg()[0]
    record(opts, NAME, results)
    return results
