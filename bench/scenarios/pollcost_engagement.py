"""Poll cost of engagement and deletion tracking on an X ``tweet`` stream.

The same 20-tweet timeline as ``pollcost``, served by fakex in its own process. The poller
runs here; ``time.process_time()`` around each ``Poller.poll`` counts this process's CPU
only. Three cases, each after the baseline poll:

- **tracking off** (``HERALD_TRACKED_TWEETS=0``): the poll as it was before tracking;
- **nothing moved**: tracking on, the same counts again (the load and save scripts run,
  no event);
- **20 metrics events**: before each poll (outside the timed part) every tweet gets one
  more like, so each poll reports 20 ``stream:tweet:metrics`` events.

The three streams are polled in turn, round after round, each round starting with the next
case, so the machine's load (and the place in the round) weighs on each alike.
"""

from __future__ import annotations

import os
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.common import Options, delete_prefix, median, progress, record
from bench.procs import Children, free_port, pinned, python_module, wait_http
from herald.config import Settings
from herald.service import Herald

NAME = "pollcost_engagement"
USER = "benchengage"
COOKIE = "bench-session"
CASES = (
    ("tracking off", {"tracked_tweets": 0}, False),
    ("tracking on, nothing moved", {}, False),
    ("tracking on, 20 metrics events", {}, True),
)


async def _seed(client: httpx.AsyncClient, user: str) -> list[str]:
    """A user of its own per case (a like given to one case's tweets is not another's)."""
    await client.post("/_fakex/users", json={"username": user})
    ids = []
    for i in range(20):
        text = f"Tweet {i + 1} from @{user}: a realistic line of text with a link https://t.co/x{i}"
        posted = await client.post(f"/_fakex/users/{user}/tweets", json={"text": text})
        posted.raise_for_status()
        ids.append(posted.json()["id"])
    return ids


@dataclass
class _Case:
    label: str
    bump: bool
    herald: Herald
    stream: str
    ids: list[str]
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    events: int = 0


async def _open(
    opts: Options,
    base: str,
    client: httpx.AsyncClient,
    stack: AsyncExitStack,
    index: int,
    case: tuple[str, dict[str, Any], bool],
) -> _Case:
    label, overrides, bump = case
    prefix = opts.prefix(f"{NAME}-{index}")
    stack.push_async_callback(delete_prefix, opts.redis_url, prefix)
    settings = Settings(
        redis_url=opts.redis_url,
        redis_prefix=prefix,
        x_base_url=base,
        # a session per case: fakex's budget is 500 requests per 15 minutes per session
        session_cookie=f"{COOKIE}-{index}",
        secret_key="bench secret key",
        **overrides,
    )
    herald = await stack.enter_async_context(Herald(settings, worker=False, delivery=False))
    user = f"{USER}{index}"
    ids = await _seed(client, user)
    stream = await herald.manager.create("tweet", user, 60)
    first = await herald.poller.poll(stream["id"])
    if first.outcome != "baseline":
        raise RuntimeError(f"baseline poll failed: {first.outcome} {first.error}")
    return _Case(label, bump, herald, stream["id"], ids)


async def _measure(
    opts: Options, base: str, client: httpx.AsyncClient, polls: int
) -> list[dict[str, Any]]:
    """The cases polled in turn, one poll each per round, so a machine that gets busier
    weighs on all of them alike."""
    async with AsyncExitStack() as stack:
        cases = [await _open(opts, base, client, stack, i, c) for i, c in enumerate(CASES)]
        for likes in range(1, polls + 1):
            turn = likes % len(cases)  # each case first in its turn: no place is favoured
            for case in cases[turn:] + cases[:turn]:
                if case.bump:
                    for tweet_id in case.ids:
                        await client.post(
                            f"/_fakex/tweets/{tweet_id}/metrics", json={"likes": likes}
                        )
                c, w = time.process_time(), time.perf_counter()
                outcome = await case.herald.poller.poll(case.stream)
                case.cpu.append(time.process_time() - c)
                case.wall.append(time.perf_counter() - w)
                if outcome.outcome != "ok":
                    raise RuntimeError(f"poll failed: {outcome.outcome} {outcome.error}")
                case.events += outcome.events
        return [
            {
                "case": case.label,
                "polls": polls,
                "events_per_poll": case.events / max(polls, 1),
                "cpu_ms_median": round((median(case.cpu) or 0) * 1000, 3),
                "wall_ms_median": round((median(case.wall) or 0) * 1000, 3),
            }
            for case in cases
        ]


async def run(opts: Options) -> dict[str, Any]:
    polls = 30 if opts.quick else 200
    results: dict[str, Any] = {"rows": []}
    async with Children() as children:
        port = free_port()
        progress(NAME, "starting the X stand-in (fakex); 20 tweets per case")
        argv = pinned("1", python_module("herald.testing.fakex", "--port", str(port)))
        fakex = await children.start("fakex", argv)
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/_fakex/requests", 30, fakex)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            progress(NAME, f"{polls} rounds of one poll per case, in turn")
            results["rows"] = await _measure(opts, base, client, polls)
            for row in results["rows"]:
                progress(NAME, f"{row['case']}: {row['cpu_ms_median']} ms CPU per poll")
        results["load"] = os.getloadavg()[0]
    record(opts, NAME, results)
    return results
