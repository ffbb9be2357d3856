"""A ws:feed stream's target and options, checked at start; the URL and messages a preset
builds; which streams share a connection."""

from __future__ import annotations

from typing import Any

import pytest
from ws_support import feed_stream

from herald.errors import ValidationError
from herald.push.base import PushStream
from herald.push.wsconn import PushConnectionError
from herald.sources.catalog import stream_types
from herald.sources.ws import WsFeedSource, feed_options, feed_spec, presets, ws_url


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("wss://Stream.Binance.com:9443", "wss://stream.binance.com:9443/"),
        ("WS://127.0.0.1:8095/stream?streams=a@b#frag", "ws://127.0.0.1:8095/stream?streams=a@b"),
        ("  wss://ws-feed.exchange.coinbase.com  ", "wss://ws-feed.exchange.coinbase.com/"),
    ],
)
def test_targets_are_normalised(given: str, normal: str) -> None:
    assert ws_url(given) == normal


@pytest.mark.parametrize(
    ("given", "rule"),
    [
        (None, "required"),
        ("", "required"),
        ("https://example.com/feed", "ws:// or wss://"),
        ("example.com", "ws:// or wss://"),
        ("wss://user:pw@example.com/", "credentials"),
        ("wss:///path", "no host"),
        ("wss://example.com/a b", "spaces"),
        ("wss://example.com:99999/", "not a valid URL"),
        ("wss://example.com/" + "a" * 2048, "too long"),
    ],
)
def test_bad_targets_are_refused(given: object, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule) as refused:
        ws_url(given)
    assert refused.value.detail.startswith("target: ")


BINANCE = {"preset": "binance", "symbols": ["BTCUSDT", "ethusdt"], "channels": ["aggTrade"]}


@pytest.mark.parametrize(
    ("options", "field", "rule"),
    [
        ({}, "options.map", "required without a preset"),
        ({"url": "wss://x/", "map": {}}, "options.url", "target"),
        ({"map": {}, "colour": 1}, "options", "unknown option"),
        ({"preset": "kraken", "symbols": ["x"]}, "options.preset", "binance, coinbase"),
        ({"preset": "binance"}, "options.symbols", "required with preset binance"),
        ({"preset": "binance", "symbols": ["BTC-USD"]}, "options.symbols", "not a binance"),
        ({"preset": "coinbase", "symbols": ["btcusdt"]}, "options.symbols", "not a coinbase"),
        ({**BINANCE, "channels": ["depth"]}, "options.channels", "not a binance channel"),
        ({**BINANCE, "channels": []}, "options.channels", "non-empty"),
        ({**BINANCE, "map": {}}, "options.map", "comes from preset binance"),
        ({**BINANCE, "subscribe": []}, "options.subscribe", "comes from preset"),
        ({"map": {}, "symbols": ["x"]}, "options.symbols", "only with a preset"),
        ({"map": {"id": "$..x"}}, "options.map.id", "cannot read path"),
        ({"map": {}, "subscribe": {"op": "sub"}}, "options.subscribe", "a list"),
        ({"map": {}, "subscribe": [1]}, "options.subscribe[0]", "JSON object"),
        ({"map": {}, "subscribe": ["x" * 20000]}, "options.subscribe[0]", "too long"),
        ({"map": {}, "keepalive": {"ping": 0}}, "options.keepalive.ping", "from 1 to 600"),
        ({"map": {}, "keepalive": {"every": 5}}, "options.keepalive.every", "only with"),
        ({"map": {}, "keepalive": {"pong": 5}}, "options.keepalive", "an object"),
        ({"map": {}, "keepalive": {"message": 5}}, "options.keepalive.message", "JSON"),
        ({"map": {}, "maxFrameBytes": 10}, "options.maxFrameBytes", "whole number"),
        ({"map": {}, "noMatchNotice": "soon"}, "options.noMatchNotice", "a number"),
    ],
)
def test_bad_options_are_refused_naming_the_field(
    options: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(ValidationError, match=rule) as refused:
        feed_options(options)
    assert refused.value.detail.startswith(f"{field}: "), refused.value.detail


def test_binance_refuses_more_than_1024_streams_and_takes_1024() -> None:
    symbols = [f"coin{i}usdt" for i in range(512)]
    ok = feed_options({"preset": "binance", "symbols": symbols, "channels": ["aggTrade", "trade"]})
    assert len(ok["symbols"]) == 512
    with pytest.raises(ValidationError, match="1026 streams; binance allows at most 1024"):
        feed_options(
            {
                "preset": "binance",
                "symbols": [*symbols, "one", "two", "three"][:513],
                "channels": ["aggTrade", "trade"],
            }
        )


def test_binance_url_holds_the_first_streams_and_subscribe_messages_the_rest() -> None:
    symbols = [f"coin{i}usdt" for i in range(450)]
    options = feed_options({"preset": "binance", "symbols": symbols})
    spec = feed_spec("wss://stream.binance.com:9443/", options)
    assert spec.url.startswith("wss://stream.binance.com:9443/stream?streams=coin0usdt@aggTrade/")
    in_url = spec.url.split("streams=")[1].split("/")
    assert len(in_url) == 200
    assert [m["method"] for m in spec.subscribe] == ["SUBSCRIBE", "SUBSCRIBE"]
    assert [len(m["params"]) for m in spec.subscribe] == [200, 50]
    assert [m["id"] for m in spec.subscribe] == [1, 2]
    assert in_url + [p for m in spec.subscribe for p in m["params"]] == [
        f"{s}@aggTrade" for s in symbols
    ]
    assert spec.messages_per_second == 5 and spec.max_lifetime and spec.max_lifetime < 86400


def test_binance_keeps_a_stream_path_given_in_the_target() -> None:
    options = feed_options(BINANCE)
    for target in ("ws://127.0.0.1:8095", "ws://127.0.0.1:8095/stream?streams=x@trade"):
        spec = feed_spec(ws_url(target), options)
        assert spec.url == "ws://127.0.0.1:8095/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade"


def test_coinbase_subscribes_to_its_products_and_channels() -> None:
    options = feed_options(
        {"preset": "coinbase", "symbols": ["btc-usd", "ETH-EUR"], "channels": ["matches", "ticker"]}
    )
    spec = feed_spec("wss://ws-feed.exchange.coinbase.com/", options)
    assert spec.url == "wss://ws-feed.exchange.coinbase.com/"
    assert spec.subscribe == (
        {
            "type": "subscribe",
            "product_ids": ["BTC-USD", "ETH-EUR"],
            "channels": ["matches", "ticker"],
        },
    )


def test_same_url_and_subscription_share_a_connection_and_nothing_else_does() -> None:
    source = WsFeedSource()
    one = feed_stream(BINANCE, sid="a")
    same = feed_stream(
        {**BINANCE, "symbols": ["btcusdt", "ETHUSDT"], "keepalive": {"ping": 5}}, sid="b"
    )
    other = feed_stream({**BINANCE, "symbols": ["btcusdt"]}, sid="c")
    generic = feed_stream({"map": {}, "subscribe": [{"op": "sub", "args": ["x"]}]}, sid="d")
    generic_same = feed_stream(
        {"map": {"id": "$.x"}, "subscribe": [{"args": ["x"], "op": "sub"}]}, sid="e"
    )
    keys = [source.connection_key(s) for s in (one, same, other, generic, generic_same)]
    assert keys[0] == keys[1] and keys[3] == keys[4]
    assert len(set(keys)) == 3
    assert all(k.startswith("ws:") and len(k) < 32 for k in keys)
    plan = source.plan(keys[0], [one, same])
    assert plan.ping_interval == 5 and plan.max_lifetime and plan.max_lifetime < 86400


def test_the_catalog_entry() -> None:
    spec = stream_types().get("ws:feed")
    assert spec.mode == "push" and spec.platform == "ws"
    assert set(presets()) == {"binance", "coinbase"}
    assert set(spec.option_docs) == set(spec.options_json_schema()["properties"])


async def test_options_that_no_longer_compile_fail_on_their_own_stream_only() -> None:
    """A PATCH merges options: a preset over an old map no longer compiles. The stream gets
    a connection key of its own, and connecting it is a bad_options error."""
    merged = {**feed_options({"map": {}}), **feed_options(BINANCE)}
    broken = PushStream("x", "ws:feed", "wss://stream.binance.com:9443/", merged, 0.0)
    source = WsFeedSource()
    key = source.connection_key(broken)
    assert key == "ws:invalid:x" != source.connection_key(feed_stream(BINANCE))
    assert source.plan(key, [broken]).max_frame_bytes == 1 << 20
    with pytest.raises(PushConnectionError) as failed:
        await source.connect(key, [broken], None)
    assert failed.value.kind == "bad_options" and "comes from preset" in str(failed.value)


def test_errors_quote_a_huge_value_briefly() -> None:
    nested: list[Any] = []
    for _ in range(300):
        nested = [nested]
    with pytest.raises(ValidationError, match="not encodable as JSON") as refused:
        feed_options({"map": {}, "subscribe": [nested]})
    assert len(refused.value.detail) < 200
    with pytest.raises(ValidationError) as refused:
        feed_options({"map": {"match": {"$.a": {"deep": "x" * 100_000}}}})
    assert len(refused.value.detail) < 300


def test_idle_timeout_is_long_while_pings_prove_the_connection_alive() -> None:
    source = WsFeedSource()
    pinged = feed_stream({"map": {}})
    unpinged = feed_stream({"map": {}, "keepalive": {"ping": None}})
    chosen = feed_stream({"map": {}, "idleTimeout": 42})
    assert source.plan("k", [pinged]).idle_timeout == 300
    assert source.plan("k", [unpinged]).idle_timeout == 60
    assert source.plan("k", [unpinged]).ping_interval is None
    assert source.plan("k", [chosen]).idle_timeout == 42
    with pytest.raises(ValidationError, match=r"options\.idleTimeout: a number from 5"):
        feed_options({"map": {}, "idleTimeout": 1})
