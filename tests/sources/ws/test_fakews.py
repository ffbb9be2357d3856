"""The WebSocket stand-in: it replays what the recordings hold, to the streams and products
a client asked for, answers subscribe messages as the exchanges do, and injects faults."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from ws_support import (
    BINANCE,
    COINBASE,
    binance_streams,
    coinbase_products,
    fakews,
    received,
    recording_path,
)

from herald.testing.fakews import RecordingError, parse_recording
from tests.processes import herald_process
from tests.servers import free_port


async def drain(ws: ClientConnection, quiet: float = 1.0) -> list[Any]:
    """Frames until the socket is quiet for ``quiet`` s (the replay ran at max speed: it
    has sent everything long before that) or closed."""
    out: list[Any] = []
    try:
        while True:
            out.append(await asyncio.wait_for(ws.recv(), quiet))
    except (TimeoutError, ConnectionClosed):
        return out


async def take(ws: ClientConnection, count: int, timeout: float = 20) -> list[Any]:
    return [await asyncio.wait_for(ws.recv(), timeout) for _ in range(count)]


def binance_frames(streams: set[str]) -> list[dict[str, Any]]:
    return [f for f in received(BINANCE) if f.get("stream") in streams]


async def test_binance_replays_only_the_requested_streams_in_order() -> None:
    wanted = {s for s in binance_streams() if s.endswith(("@aggTrade", "@bookTicker"))}
    expected = binance_frames(wanted)
    assert expected, "the recording holds aggTrade and bookTicker frames"
    async with fakews(BINANCE) as (url, control):
        async with connect(f"{url}/stream?streams={'/'.join(sorted(wanted))}") as ws:
            got = await take(ws, len(expected))
            assert [json.loads(g) for g in got] == expected
            assert await drain(ws, 0.5) == []
        report = (await control.get("/_fakews/requests")).json()
        assert report["framesSent"] == len(expected)
        assert report["kinds"]["aggTrade"] == sum(
            1 for f in expected if f["data"].get("e") == "aggTrade"
        )


async def test_binance_subscribe_is_answered_and_adds_streams() -> None:
    trades = [s for s in binance_streams() if s.endswith("@aggTrade")]
    async with fakews(BINANCE) as (url, _), connect(f"{url}/stream") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": trades, "id": 7}))
        assert json.loads(await ws.recv()) == {"result": None, "id": 7}
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}))
        assert json.loads(await ws.recv()) == {"result": trades, "id": 8}
        await ws.send(json.dumps({"method": "FLY", "id": 9}))
        error = json.loads(await ws.recv())
        assert error["id"] == 9 and "method" in error["msg"]


async def test_binance_disconnects_a_client_over_five_messages_a_second() -> None:
    async with fakews(BINANCE, speed=1) as (url, _), connect(f"{url}/stream") as ws:
        for i in range(8):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_a_path_other_than_the_recorded_one_is_refused() -> None:
    async with fakews(BINANCE) as (url, control):
        with pytest.raises(InvalidStatus):
            async with connect(f"{url}/ws/btcusdt@trade"):
                pass
        too_many = "/".join(f"s{i}@t" for i in range(1025))  # under the 8 KB request line
        with pytest.raises(InvalidStatus):
            async with connect(f"{url}/stream?streams={too_many}"):
                pass
        assert (await control.get("/_fakews/requests")).json()["refused"] == 2


async def test_coinbase_sends_nothing_before_subscribe_then_the_channels_asked_for() -> None:
    products = coinbase_products()
    expected = [f for f in received(COINBASE) if f["type"] in ("match", "last_match", "ticker")]
    async with fakews(COINBASE) as (url, _), connect(f"{url}/") as ws:
        assert await drain(ws, 0.5) == []
        await ws.send(
            json.dumps(
                {"type": "subscribe", "product_ids": products, "channels": ["matches", "ticker"]}
            )
        )
        answer = json.loads(await ws.recv())
        assert answer["type"] == "subscriptions"
        assert {c["name"]: set(c["product_ids"]) for c in answer["channels"]} == {
            "matches": set(products),
            "ticker": set(products),
        }
        got = [json.loads(f) for f in await take(ws, len(expected))]
        assert got == expected


async def test_coinbase_filters_by_product_and_refuses_bad_channels() -> None:
    product = coinbase_products()[0]
    mine = [f for f in received(COINBASE) if f.get("product_id") == product]
    expected = [f for f in mine if f["type"] == "match"]
    expected_last = [f for f in mine if f["type"] == "last_match"]
    async with fakews(COINBASE) as (url, _), connect(f"{url}/") as ws:
        await ws.send(json.dumps({"type": "subscribe", "channels": ["nope"], "product_ids": []}))
        error = json.loads(await ws.recv())
        assert error["type"] == "error" and "nope" in error["reason"]
        channels = [{"name": "matches", "product_ids": [product]}]
        await ws.send(json.dumps({"type": "subscribe", "channels": channels}))
        assert json.loads(await ws.recv())["type"] == "subscriptions"
        got = [json.loads(f) for f in await take(ws, len(expected) + len(expected_last))]
        assert [f for f in got if f["type"] == "match"] == expected
        assert {f["product_id"] for f in got} == {product}


async def test_faults_skip_garbage_oversized_and_drop() -> None:
    trades = [s for s in binance_streams() if s.endswith(("@aggTrade", "@bookTicker"))]
    expected = binance_frames(set(trades))
    query = f"/stream?streams={'/'.join(trades)}"
    async with fakews(BINANCE) as (url, control):
        for fault in (
            {"mode": "skip", "kind": "aggTrade"},
            {"mode": "garbage", "after": 3},
            {"mode": "oversized", "after": 4, "bytes": 4096},
            {"mode": "binary", "after": 5},
        ):
            assert (await control.post("/_fakews/faults", json=fault)).status_code == 201
        async with connect(f"{url}{query}") as ws:
            got = await take(ws, len(expected) + 2)
        texts = [g for g in got if isinstance(g, str)]
        assert sum(1 for g in got if isinstance(g, bytes)) == 1
        garbage = [t for t in texts if not _is_json(t)]
        assert len(garbage) == 1
        assert sum(1 for t in texts if len(t) >= 4000) == 1
        frames = [json.loads(t) for t in texts if _is_json(t) and len(t) < 4000]
        skipped = next(f for f in expected if f["data"].get("e") == "aggTrade")
        assert frames == [f for f in expected if f is not skipped]
        report = (await control.get("/_fakews/requests")).json()
        assert report["skipped"] == 1
        assert report["faultsFired"] == {"skip": 1, "garbage": 1, "oversized": 1, "binary": 1}

        await control.post("/_fakews/faults", json={"mode": "drop", "after": 2})
        async with connect(f"{url}{query}") as ws:
            await take(ws, 2)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


async def test_replay_restart_and_injected_frames() -> None:
    books = [s for s in binance_streams() if s.endswith("@bookTicker")]
    expected = binance_frames(set(books))
    async with fakews(BINANCE) as (url, control):
        async with connect(f"{url}/stream?streams={'/'.join(books)}") as ws:
            first = await take(ws, len(expected))
            answer = await control.post("/_fakews/frames", json={"frames": [{"hi": 1}, "x"]})
            assert answer.json() == {"sessions": 1, "frames": 2}
            assert await take(ws, 2) == ['{"hi":1}', "x"]
            restarted = (await control.post("/_fakews/replay", json={"maxSpeed": True})).json()
            assert restarted["restarted"] == 1
            assert await take(ws, len(expected)) == first
        assert (await control.get("/_fakews/requests")).json()["replays"] >= 1


def test_the_recordings_parse_with_their_url_and_kinds() -> None:
    for name, dialect in ((BINANCE, "binance"), (COINBASE, "coinbase")):
        text = recording_path(name).read_text(encoding="utf-8")
        recording = parse_recording(text)
        assert recording.dialect == dialect
        assert len(recording.frames) == len(received(name))
        assert recording.url == text.splitlines()[0].split(" <-> ")[0]
        assert sum(recording.kinds.values()) == len(recording.frames)
        times = [f.at for f in recording.frames]
        assert times == sorted(times)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "line 1"),
        ("http://x <-> 1\n1: {}\n", "ws://"),
        ("ws://x/ <-> 1\n", "no received frames"),
        ("ws://x/ <-> 1\nnot a time: {}\n", "line 2"),
    ],
)
def test_a_file_that_is_no_recording_is_refused_with_the_line(text: str, rule: str) -> None:
    with pytest.raises(RecordingError, match=rule):
        parse_recording(text)


async def test_herald_fakews_runs_as_a_command(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["fakews", "--port", str(port), "--recording", str(recording_path(BINANCE))]
    async with herald_process(
        [*args, "--max-speed"], {}, tmp_path / "fakews.log", f"{base}/_fakews/recording"
    ):
        async with httpx.AsyncClient(base_url=base, timeout=10) as control:
            summary = (await control.get("/_fakews/recording")).json()
        assert summary["dialect"] == "binance" and summary["speed"] is None
        assert summary["frames"] == len(received(BINANCE))
        trades = [s for s in binance_streams() if s.endswith("@aggTrade")]
        async with connect(f"ws://127.0.0.1:{port}/stream?streams={'/'.join(trades)}") as ws:
            got = [json.loads(f) for f in await take(ws, len(binance_frames(set(trades))))]
        assert Counter(f["data"]["e"] for f in got) == {"aggTrade": len(got)}


async def test_herald_fakews_refuses_a_file_that_is_no_recording(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ws"
    bad.write_text("hello\n")
    proc = await asyncio.create_subprocess_exec(
        str(Path(__import__("sys").executable).with_name("herald")),
        "fakews",
        "--recording",
        str(bad),
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode != 0
    assert b"line 1" in stderr
