"""Commands: latency of one X write through the commands engine, to the local X stand-in.

fakex runs in its own process (pinned to core 1). This process runs the commands service
as a Herald builds it (Redis 7 for the claim, the budget, the record and the two lifecycle
events; the X client for the request). For each command type, ``N`` commands are submitted
one after another with ``wait=True``; the latency is from ``submit`` to its answer
(``succeeded``). Beside it, the bare round trip: the same mutation sent ``N`` times with the
X client alone, so the engine's own cost is the difference. Last, a repeated ``commandId``
(answered from the store, nothing sent).
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx

from bench.common import Options, delete_prefix, percentile, progress, record
from bench.procs import Children, free_port, pinned, python_module, wait_http
from herald.commands.base import COMMAND_TYPES
from herald.config import Settings
from herald.service import Herald
from herald.sources.x.client import XClient
from herald.sources.x.mutations import mutation

NAME = "commands"
TOKEN = "bench-commands-session"  # synthetic: the stand-in writes as @benchwriter for it
GOAL_P95_MS = 50.0


def _ms(values: list[float], q: float) -> float:
    return round((percentile(values, q) or 0.0) * 1000, 2)


async def _targets(client: httpx.AsyncClient, count: int) -> list[str]:
    await client.post("/_fakex/users", json={"username": "benchtarget"})
    ids = []
    for i in range(count):
        answer = await client.post("/_fakex/users/benchtarget/tweets", json={"text": f"t{i}"})
        ids.append(str(answer.json()["id"]))
    return ids


def _settings(opts: Options, base: str) -> Settings:
    return Settings(
        redis_url=opts.redis_url,
        redis_prefix=opts.prefix(NAME),
        x_base_url=base,
        x_transaction_id=False,
        session_cookie=TOKEN,
        secret_key="bench commands key",
        enable_writes=True,
        write_limit_minute=0,
        write_limit_hour=0,
        write_limit_day=0,
        alerts=False,
    )


async def _engine(herald: Herald, kind: str, data: list[dict[str, Any]]) -> list[float]:
    assert herald.commands is not None
    took = []
    for item in data:
        started = time.perf_counter()
        answer = await herald.commands.submit({"type": kind, "data": item})
        took.append(time.perf_counter() - started)
        if answer["state"] != "succeeded":
            raise RuntimeError(f"{kind} ended {answer['state']}: {answer.get('error')}")
    return took


async def _bare(settings: Settings, kind: str, data: list[dict[str, Any]]) -> list[float]:
    took = []
    async with XClient(settings, TOKEN) as client:
        for item in data:
            spec = mutation(kind, item)
            started = time.perf_counter()
            await client.graphql_post(spec.operation, spec.variables)
            took.append(time.perf_counter() - started)
    return took


def _data(kind: str, targets: list[str], posted: list[str], tag: str) -> list[dict[str, Any]]:
    if kind == "post_tweet":
        return [{"text": f"bench {tag} {i}"} for i in range(len(targets))]
    if kind == "delete_tweet":
        return [{"tweet_id": t} for t in posted]
    return [{"tweet_id": t} for t in targets]


async def run(opts: Options) -> dict[str, Any]:
    count = 20 if opts.quick else 200
    rows: list[dict[str, Any]] = []
    async with Children() as children:
        port = free_port()
        argv = pinned("1", python_module("herald.testing.fakex", "--port", str(port)))
        fakex = await children.start("fakex", argv)
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/_fakex/requests", 30, fakex)
        settings = _settings(opts, base)
        try:
            async with httpx.AsyncClient(base_url=base, timeout=10) as control:
                await control.post(
                    "/_fakex/sessions", json={"authToken": TOKEN, "username": "benchwriter"}
                )
                # each side likes and retweets its own tweets (X refuses a second like)
                targets = {"engine": await _targets(control, count)}
                targets["bare"] = await _targets(control, count)
            async with Herald(settings, worker=False, delivery=False) as herald:
                assert herald.commands is not None
                posted: dict[str, list[str]] = {"engine": [], "bare": []}
                for kind in COMMAND_TYPES:
                    progress(NAME, f"{count} {kind} commands, then {count} bare mutations")
                    engine_data = _data(kind, targets["engine"], posted["engine"], "engine")
                    engine = await _engine(herald, kind, engine_data)
                    bare_data = _data(kind, targets["bare"], posted["bare"], "bare")
                    bare = await _bare(settings, kind, bare_data)
                    if kind == "post_tweet":
                        listed = await herald.commands.list(limit=count)
                        posted["engine"] = [c["result"]["tweetId"] for c in listed]
                        posted["bare"] = await _own(base, count)
                    rows.append(_row(kind, engine, bare))
                    progress(NAME, f"{kind}: p50 {rows[-1]['p50_ms']} ms")
                repeat = await _repeats(herald, count)
        finally:
            await delete_prefix(opts.redis_url, opts.prefix(NAME))
    results = {
        "count": count,
        "rows": rows,
        "repeat": repeat,
        "goal_p95_ms": GOAL_P95_MS,
        "load": os.getloadavg()[0],
    }
    record(opts, NAME, results)
    return results


async def _own(base: str, count: int) -> list[str]:
    """The ids of the bare CreateTweets (the newest tweets of @benchwriter not yet listed)."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as control:
        user = (await control.get("/_fakex/users/benchwriter")).json()
        params = {"variables": f'{{"userId":"{user["id"]}","count":{count}}}', "features": "{}"}
        headers = {"x-csrf-token": "c", "cookie": f"auth_token={TOKEN}; ct0=c"}
        page = (
            await control.get("/i/api/graphql/q/UserTweets", params=params, headers=headers)
        ).json()
    from herald.sources.x.parse import parse_tweets

    return [t.id for t in parse_tweets(page).tweets if t.text.startswith("bench bare")]


def _row(kind: str, engine: list[float], bare: list[float]) -> dict[str, Any]:
    return {
        "type": kind,
        "commands": len(engine),
        "p50_ms": _ms(engine, 50),
        "p95_ms": _ms(engine, 95),
        "max_ms": _ms(engine, 100),
        "bare_p50_ms": _ms(bare, 50),
        "bare_p95_ms": _ms(bare, 95),
    }


async def _repeats(herald: Herald, count: int) -> dict[str, Any]:
    assert herald.commands is not None
    body = {"type": "post_tweet", "commandId": "bench-repeat", "data": {"text": "once"}}
    await herald.commands.submit(body)
    took = []
    for _ in range(count):
        started = time.perf_counter()
        await herald.commands.submit(body)
        took.append(time.perf_counter() - started)
    return {"submits": count, "p50_ms": _ms(took, 50), "p95_ms": _ms(took, 95)}
