"""ws:feed over REST: bad targets and options are a 400 naming the field, nothing stored;
good ones are stored normalised; the catalog describes the type."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from herald.config import Settings
from herald.service import Herald
from tests.servers import serve_herald


@pytest.fixture
async def api(redis_url: str, key_prefix: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(redis_url=redis_url, redis_prefix=key_prefix, poll_timeout=2)
    async with (
        Herald(settings, worker=False) as herald,
        serve_herald(herald) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        yield client


BINANCE = {"preset": "binance", "symbols": ["BTCUSDT"], "channels": ["aggTrade", "bookTicker"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target": "https://stream.binance.com/"}, "target"),
        ({"target": "wss://u:p@stream.binance.com/", "options": BINANCE}, "target"),
        ({"target": "wss://x.example/", "options": {}}, "options.map"),
        ({"target": "wss://x.example/", "options": {"map": {"id": "$[*]"}}}, "options.map.id"),
        ({"target": "wss://x.example/", "options": {**BINANCE, "channels": ["depth"]}},
         "options.channels"),
        ({"target": "wss://x.example/", "options": {"preset": "binance",
          "symbols": [f"c{i}usdt" for i in range(1025)]}}, "options.symbols"),
    ],
)  # fmt: skip
async def test_bad_input_is_a_400_naming_the_field_and_nothing_is_stored(
    api: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    answer = await api.post("/api/streams/start", json={"type": "ws:feed", **body})
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["error"] == "validation_error"
    assert error["detail"].startswith(f"{field}: "), error["detail"]
    assert (await api.get("/api/streams")).json()["streams"] == []


async def test_a_preset_stream_is_stored_with_its_options_normalised(
    api: httpx.AsyncClient,
) -> None:
    answer = await api.post(
        "/api/streams/start",
        json={"type": "ws:feed", "target": "WSS://Stream.Binance.com:9443", "options": BINANCE},
    )
    assert answer.status_code in (200, 201), answer.text
    stream = answer.json()
    assert stream["platform"] == "ws" and stream["target"] == "wss://stream.binance.com:9443/"
    assert stream["options"]["symbols"] == ["btcusdt"]
    again = await api.post(
        "/api/streams/start",
        json={"type": "ws:feed", "target": "wss://stream.binance.com:9443/", "options": BINANCE},
    )
    assert again.status_code == 409


async def test_the_catalog_describes_ws_feed(api: httpx.AsyncClient) -> None:
    types = (await api.get("/api/stream-types")).json()
    entry = next(t for t in (types["types"] if isinstance(types, dict) else types)
                 if t["type"] == "ws:feed")  # fmt: skip
    assert entry["mode"] == "push" and entry["platform"] == "ws"
    assert entry["events"] == ["stream:message:new", "stream:trade:new", "stream:ticker:update"]
    assert set(entry["options"]) >= {"preset", "symbols", "channels", "subscribe", "map"}
    schema = (await api.get("/openapi.json")).json()
    assert "ws:feed" in str(schema)
