"""The source against the stand-in over real sockets: connect (with its subscribe
messages), read frames, decode; and every way a connection goes wrong is a
PushConnectionError of its kind or a frame error, never a library exception."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx
import orjson
import pytest
from ws_support import (
    BINANCE,
    COINBASE,
    binance_options,
    coinbase_options,
    fakews,
    feed_stream,
    received,
)

from herald.events import EventType
from herald.push.base import Decoded, Frame, PushStream
from herald.push.wsconn import PushConnectionError
from herald.sources.ws import WsFeedSource
from tests.servers import free_port
from tests.waiting import wait_until


async def read(source: WsFeedSource, stream: PushStream, count: int) -> tuple[list[Frame], Decoded]:
    """Connect, read ``count`` frames, decode them in one batch."""
    key = source.connection_key(stream)
    connection = await source.connect(key, [stream], None)
    try:
        frames = [await asyncio.wait_for(connection.recv(), 20) for _ in range(count)]
    finally:
        await connection.aclose()
    return frames, await source.decode(key, frames, [stream], None)


def trades(decoded: Decoded) -> list[dict[str, Any]]:
    return [c.payload["trade"] for c in decoded.changes if c.type == EventType.TRADE_NEW]


async def test_binance_preset_over_fakews_one_trade_per_aggtrade_frame() -> None:
    expected = [f["data"] for f in received(BINANCE) if f["data"].get("e") == "aggTrade"]
    async with fakews(BINANCE) as (url, control):
        stream = feed_stream(binance_options(["aggTrade"]), target=url)
        _, decoded = await read(WsFeedSource(), stream, len(expected))
        report = (await control.get("/_fakews/requests")).json()
    got = trades(decoded)
    assert [(t["symbol"], t["price"], t["size"]) for t in got] == [
        (f["s"], f["p"], f["q"]) for f in expected
    ]
    assert report["connections"] == 1 and report["clientMessages"] == 0


async def test_coinbase_preset_subscribes_and_yields_one_trade_per_match() -> None:
    recorded = received(COINBASE)
    matches = [f for f in recorded if f["type"] == "match"]
    answers = [f for f in recorded if f["type"] in ("match", "last_match")]
    async with fakews(COINBASE) as (url, control):
        stream = feed_stream(coinbase_options(["matches"]), target=url)
        frames, decoded = await read(WsFeedSource(), stream, 1 + len(answers))
        report = (await control.get("/_fakews/requests")).json()
    assert orjson.loads(frames[0].data)["type"] == "subscriptions"
    assert [t["id"] for t in trades(decoded)] == [str(m["trade_id"]) for m in matches]
    sent = [orjson.loads(m) for m in report["messages"]]
    assert sent == [
        {
            "type": "subscribe",
            "product_ids": coinbase_options([])["symbols"],
            "channels": ["matches"],
        }
    ]


async def test_a_skipped_match_on_the_wire_is_a_sequence_gap() -> None:
    answers = [f for f in received(COINBASE) if f["type"] in ("match", "last_match")]
    async with fakews(COINBASE) as (url, control):
        await control.post("/_fakews/faults", json={"mode": "skip", "kind": "match", "after": 20})
        stream = feed_stream(coinbase_options(["matches"]), target=url)
        _, decoded = await read(WsFeedSource(), stream, len(answers))  # 1 answer, 1 skipped
    assert [(g.reason, g.missed) for _, g in decoded.gaps] == [("sequence_gap", 1)]
    assert len(trades(decoded)) == len(answers) - 10 - 1  # ten last_match only seed


async def test_garbage_on_the_wire_is_a_frame_error_and_the_rest_decodes() -> None:
    expected = [f for f in received(BINANCE) if f["data"].get("e") == "aggTrade"]
    async with fakews(BINANCE) as (url, control):
        await control.post("/_fakews/faults", json={"mode": "garbage"})
        await control.post("/_fakews/faults", json={"mode": "binary"})
        stream = feed_stream(binance_options(["aggTrade"]), target=url)
        _, decoded = await read(WsFeedSource(), stream, len(expected) + 2)
    assert [e.kind for e in decoded.errors] == ["not_json"]
    assert len(trades(decoded)) == len(expected)


async def test_a_frame_over_the_cap_ends_the_connection_as_too_large() -> None:
    async with fakews(BINANCE) as (url, control):
        await control.post("/_fakews/faults", json={"mode": "oversized", "bytes": 8192})
        stream = feed_stream({**binance_options(["aggTrade"]), "maxFrameBytes": 4096}, target=url)
        source = WsFeedSource()
        connection = await source.connect(source.connection_key(stream), [stream], None)
        try:
            with pytest.raises(PushConnectionError) as failed:
                await asyncio.wait_for(connection.recv(), 20)
        finally:
            await connection.aclose()
    assert failed.value.kind == "too_large"


async def test_a_drop_is_a_closed_connection() -> None:
    async with fakews(BINANCE) as (url, control):
        await control.post("/_fakews/faults", json={"mode": "drop"})
        stream = feed_stream(binance_options(["bookTicker"]), target=url)
        source = WsFeedSource()
        connection = await source.connect(source.connection_key(stream), [stream], None)
        try:
            with pytest.raises(PushConnectionError) as failed:
                await asyncio.wait_for(connection.recv(), 20)
        finally:
            await connection.aclose()
    assert failed.value.kind == "closed" and "1011" in str(failed.value)


async def test_unreachable_refused_and_tls_errors_have_their_kinds() -> None:
    source = WsFeedSource(open_timeout=10)
    nobody = feed_stream({"map": {}}, target=f"ws://127.0.0.1:{free_port()}/")
    with pytest.raises(PushConnectionError) as failed:
        await source.connect(source.connection_key(nobody), [nobody], None)
    assert failed.value.kind == "unreachable"
    async with fakews(BINANCE) as (url, _):
        wrong_path = feed_stream({"map": {}}, target=f"{url}/elsewhere")
        with pytest.raises(PushConnectionError) as failed:
            await source.connect(source.connection_key(wrong_path), [wrong_path], None)
        assert failed.value.kind == "refused"
        # TLS spoken to a plain socket: the handshake fails
        tls = feed_stream({"map": {}}, target="wss" + url.removeprefix("ws") + "/stream")
        with pytest.raises(PushConnectionError) as failed:
            await source.connect(source.connection_key(tls), [tls], None)
        assert failed.value.kind == "tls_error", failed.value
    assert issubclass(ssl.SSLError, OSError)  # why tls_error must be told apart first


async def test_an_application_keepalive_is_sent_while_connected() -> None:
    async with fakews(COINBASE, speed=1) as (url, control):
        ping = {"type": "ping"}
        options = {"map": {}, "subscribe": [], "keepalive": {"message": ping, "every": 1}}
        stream = feed_stream(options, target=f"{url}/")
        source = WsFeedSource()
        connection = await source.connect(source.connection_key(stream), [stream], None)

        async def pings() -> int:
            messages = (await control.get("/_fakews/requests")).json()["messages"]
            return sum(1 for m in messages if orjson.loads(m) == ping)

        try:
            await wait_until(lambda: _at_least(pings, 2), timeout=30, what="two keepalives")
        finally:
            await connection.aclose()


async def _at_least(count: Any, n: int) -> bool:
    return bool(await count() >= n)


async def test_binance_streams_beyond_the_url_are_subscribed_by_message() -> None:
    symbols = sorted({s.split("@")[0] for s in received_streams()})
    extra = [f"x{i}usdt" for i in range(700)]
    # the recorded symbols first: in the URL, so their frames flow from the first moment
    options = {"preset": "binance", "symbols": [*symbols, *extra], "channels": ["aggTrade"]}
    expected = [f for f in received(BINANCE) if f["data"].get("e") == "aggTrade"]
    async with fakews(BINANCE) as (url, control):
        stream = feed_stream(options, target=url)
        frames, decoded = await read(WsFeedSource(), stream, 3 + len(expected))
        report = (await control.get("/_fakews/requests")).json()
    replies = [orjson.loads(f.data) for f in frames if b'"result"' in _bytes(f.data)]
    assert replies == [{"result": None, "id": n} for n in (1, 2, 3)]
    assert report["clientMessages"] == 3 and report["open"] == 0
    subscribed = [p for m in report["messages"] for p in orjson.loads(m)["params"]]
    assert subscribed == [f"x{i}usdt@aggTrade" for i in range(196, 700)]
    assert len(trades(decoded)) == len(expected)


def received_streams() -> list[str]:
    return [f["stream"] for f in received(BINANCE)]


def _bytes(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


async def test_control_client_reaches_fakews() -> None:
    async with fakews(BINANCE) as (_, control):
        assert isinstance(control, httpx.AsyncClient)
        assert (await control.get("/_fakews/recording")).status_code == 200
