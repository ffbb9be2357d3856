"""End to end, as a user runs it: ``herald fakews`` and ``herald serve`` as processes, a
ws:feed stream started over REST, one ``stream:trade:new`` per recorded trade frame, and a
restart that repeats nothing (the cursor drops what the stand-in replays) and reports a
jump in trade ids as a gap of exactly what was skipped."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from ws_support import (
    BINANCE,
    COINBASE,
    binance_options,
    coinbase_options,
    received,
    recording_path,
)

from tests.conftest import EXTERNAL_REDIS_URL
from tests.processes import herald_process
from tests.servers import free_port
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def _env(key_prefix: str, tmp_path: Path, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": EXTERNAL_REDIS_URL,
        "HERALD_REDIS_PREFIX": key_prefix,
        "HERALD_DATA_DIR": str(tmp_path / "data"),
        "HERALD_URL": url,
        "HERALD_PUSH_BACKOFF": "0.2",
        "HERALD_PUSH_LEASE_TTL": "3",
    }


@asynccontextmanager
async def fakews(
    name: str, env: dict[str, str], tmp_path: Path
) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["fakews", "--port", str(port), "--recording", str(recording_path(name))]
    async with (
        herald_process(
            [*args, "--max-speed"], env, tmp_path / "fakews.log", f"{base}/_fakews/recording"
        ),
        httpx.AsyncClient(base_url=base, timeout=10) as control,
    ):
        yield f"ws://127.0.0.1:{port}", control


@asynccontextmanager
async def serve(env: dict[str, str], tmp_path: Path, log: str) -> AsyncIterator[None]:
    url = env["HERALD_URL"]
    port = url.rsplit(":", 1)[1]
    async with herald_process(["serve", "--port", port], env, tmp_path / log, f"{url}/api/health"):
        yield


async def history(api: httpx.AsyncClient, stream: str) -> list[dict[str, Any]]:
    answer = await api.get(f"/api/streams/{stream}/history", params={"limit": 1000})
    assert answer.status_code == 200, answer.text
    return list(reversed(answer.json()["events"]))


async def of_type(api: httpx.AsyncClient, stream: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in await history(api, stream) if e["type"] == kind]


async def start(api: httpx.AsyncClient, target: str, options: dict[str, Any]) -> str:
    answer = await api.post(
        "/api/streams/start", json={"type": "ws:feed", "target": target, "options": options}
    )
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["id"])


async def test_binance_preset_one_trade_per_aggtrade_frame_across_a_restart(
    external_redis: object, key_prefix: str, tmp_path: Path
) -> None:
    frames = [f["data"] for f in received(BINANCE) if f["data"].get("e") == "aggTrade"]
    url = f"http://127.0.0.1:{free_port()}"
    env = _env(key_prefix, tmp_path, url)
    async with (
        fakews(BINANCE, env, tmp_path) as (feed, control),
        httpx.AsyncClient(base_url=url, timeout=10) as api,
    ):
        async with serve(env, tmp_path, "serve1.log"):
            stream = await start(api, feed, binance_options(["aggTrade"]))

            async def trades() -> list[dict[str, Any]]:
                return await of_type(api, stream, "stream:trade:new")

            await wait_until(
                lambda: _count(trades, len(frames)), 60, what="one trade per aggTrade frame"
            )
            got = [e["trade"] for e in await trades()]
            assert [(t["symbol"], t["price"], t["size"], t["id"]) for t in got] == [
                (f["s"], f["p"], f["q"], str(f["a"])) for f in frames
            ]
            first = await trades()
            assert {e["platform"] for e in first} == {"ws"}
        # herald is down; the stand-in will replay the whole session to the next connection
        async with serve(env, tmp_path, "serve2.log"):
            await wait_until(
                lambda: _connections(control, 2), 60, what="the reconnect after the restart"
            )
            last = frames[-1]
            follow = {**last, "a": last["a"] + 1, "p": "1.00000000"}
            jump = {**last, "a": last["a"] + 4, "p": "2.00000000"}
            for data in (follow, jump):
                stream_name = f"{data['s'].lower()}@aggTrade"
                body = {"frames": [{"stream": stream_name, "data": data}]}
                assert (await control.post("/_fakews/frames", json=body)).json()["sessions"] >= 1
            await wait_until(lambda: _count(trades, len(frames) + 2), 60, what="the new trades")
            events = await history(api, stream)
        trades_after = [e for e in events if e["type"] == "stream:trade:new"]
        assert len(trades_after) == len({e["eventId"] for e in trades_after}) == len(frames) + 2
        assert [t["trade"]["price"] for t in trades_after[-2:]] == ["1.00000000", "2.00000000"]
        gaps = [e for e in events if e["type"] == "stream:gap"]
        assert [(g["reason"], g.get("missed")) for g in gaps] == [("sequence_gap", 2)]


async def test_coinbase_preset_one_trade_per_match(
    external_redis: object, key_prefix: str, tmp_path: Path
) -> None:
    matches = [f for f in received(COINBASE) if f["type"] == "match"]
    url = f"http://127.0.0.1:{free_port()}"
    env = _env(key_prefix, tmp_path, url)
    async with (
        fakews(COINBASE, env, tmp_path) as (feed, control),
        httpx.AsyncClient(base_url=url, timeout=10) as api,
        serve(env, tmp_path, "serve.log"),
    ):
        stream = await start(api, feed + "/", coinbase_options(["matches"]))

        async def trades() -> list[dict[str, Any]]:
            return await of_type(api, stream, "stream:trade:new")

        await wait_until(lambda: _count(trades, len(matches)), 60, what="one trade per match")
        got = [e["trade"] for e in await trades()]
        assert [(t["id"], t["symbol"], t["price"], t["size"]) for t in got] == [
            (str(m["trade_id"]), m["product_id"], m["price"], m["size"]) for m in matches
        ]
        assert await of_type(api, stream, "stream:gap") == []
        sent = (await control.get("/_fakews/requests")).json()["messages"]
        assert len(sent) == 1 and '"subscribe"' in sent[0]


async def test_an_unreachable_feed_is_a_stream_error_and_the_stream_stays(
    external_redis: object, key_prefix: str, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = _env(key_prefix, tmp_path, url)
    async with (
        httpx.AsyncClient(base_url=url, timeout=10) as api,
        serve(env, tmp_path, "serve.log"),
    ):
        stream = await start(api, f"ws://127.0.0.1:{free_port()}/", {"map": {}})

        async def errors() -> list[dict[str, Any]]:
            return await of_type(api, stream, "stream:error")

        await wait_until(lambda: _count(errors, 1), 60, what="a stream:error")
        error = (await errors())[0]
        assert "unreachable" in str(error.get("kind", "")) + str(error["error"])
        status = await api.get(f"/api/streams/{stream}")
        assert status.status_code == 200


async def _count(read: Any, n: int) -> bool:
    return len(await read()) >= n


async def _connections(control: httpx.AsyncClient, n: int) -> bool:
    report = (await control.get("/_fakews/requests")).json()
    return bool(report["connections"] >= n and report["open"] >= 1)


async def test_bad_frames_on_the_wire_are_stream_errors_and_a_reconnect_a_gap(
    external_redis: object, key_prefix: str, tmp_path: Path
) -> None:
    """A generic map over the Binance session: garbage is a not_json error, a frame over the
    cap a too_large one (the socket closes, herald reconnects: a map numbers nothing, so
    that is a reconnect gap); each book frame is still one message, once."""
    books = [f for f in received(BINANCE) if f["stream"].endswith("@bookTicker")]
    url = f"http://127.0.0.1:{free_port()}"
    env = _env(key_prefix, tmp_path, url)
    streams = "/".join(sorted({f["stream"] for f in books}))
    options = {
        "map": {"match": {"$.stream": {"suffix": "@bookTicker"}}, "id": "$.data.u"},
        "maxFrameBytes": 4096,
    }
    async with (
        fakews(BINANCE, env, tmp_path) as (feed, control),
        httpx.AsyncClient(base_url=url, timeout=10) as api,
        serve(env, tmp_path, "serve.log"),
    ):
        await control.post("/_fakews/faults", json={"mode": "garbage", "after": 2})
        await control.post("/_fakews/faults", json={"mode": "oversized", "after": 5, "bytes": 8192})
        stream = await start(api, f"{feed}/stream?streams={streams}", options)

        async def messages() -> list[dict[str, Any]]:
            return await of_type(api, stream, "stream:message:new")

        await wait_until(lambda: _count(messages, len(books)), 60, what="every book frame")
        events = await history(api, stream)
        status = (await api.get(f"/api/streams/{stream}")).json()
    got = [e["message"] for e in events if e["type"] == "stream:message:new"]
    assert [m["id"] for m in got] == [str(b["data"]["u"]) for b in books]
    assert [m["data"] for m in got] == books
    kinds = [e.get("kind") for e in events if e["type"] == "stream:error"]
    assert "not_json" in kinds and "too_large" in kinds, kinds
    gaps = [e["reason"] for e in events if e["type"] == "stream:gap"]
    assert gaps == ["reconnect"]
    assert status["status"] == "active"
