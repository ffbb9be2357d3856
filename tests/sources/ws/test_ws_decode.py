"""Frames to changes, straight from the recordings: one trade per recorded trade frame with
its symbol, price and size; sequence gaps; replays dropped; reconnects reported; bad frames
as frame errors, never a crash."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from ws_support import (
    BINANCE,
    COINBASE,
    binance_options,
    coinbase_options,
    feed_stream,
    received,
    recorded_frames,
)

from herald.events import EventType
from herald.push.base import Decoded, Frame, PushStream
from herald.push.wsconn import PushConnectionError
from herald.sources.ws import WsFeedSource


async def decode(
    source: WsFeedSource, frames: list[Frame], streams: list[PushStream], cursor: str | None = None
) -> Decoded:
    key = source.connection_key(streams[0])
    return await source.decode(key, frames, streams, cursor)


def trades(decoded: Decoded, stream_id: str = "s1") -> list[dict[str, Any]]:
    return [
        c.payload["trade"]
        for c in decoded.changes
        if c.type == EventType.TRADE_NEW and c.stream_id == stream_id
    ]


async def test_binance_one_trade_per_aggtrade_frame_with_symbol_price_and_size() -> None:
    frames = [f["data"] for f in received(BINANCE) if f["data"].get("e") == "aggTrade"]
    assert frames, "the recording holds aggTrade frames"
    stream = feed_stream(binance_options(["aggTrade"]))
    decoded = await decode(WsFeedSource(), recorded_frames(BINANCE), [stream])
    got = trades(decoded)
    assert [(t["symbol"], t["price"], t["size"], t["id"]) for t in got] == [
        (f["s"], f["p"], f["q"], str(f["a"])) for f in frames
    ]
    assert {t["exchange"] for t in got} == {"binance"}
    # m: the buyer is the maker, so the taker sold
    assert [t["side"] for t in got] == ["sell" if f["m"] else "buy" for f in frames]
    ids = [c.object_id for c in decoded.changes if c.type == EventType.TRADE_NEW]
    assert ids == [f"{f['s']}:{f['a']}" for f in frames]
    assert decoded.errors == [] and decoded.gaps == []
    assert decoded.upstream_time == max(f["T"] for f in frames) / 1000


async def test_binance_book_tickers_are_ticker_updates() -> None:
    books = [f["data"] for f in received(BINANCE) if f["stream"].endswith("@bookTicker")]
    stream = feed_stream(binance_options(["bookTicker"]))
    decoded = await decode(WsFeedSource(), recorded_frames(BINANCE, 1_700_000_000.0), [stream])
    tickers = [c.payload["ticker"] for c in decoded.changes if c.type == EventType.TICKER_UPDATE]
    assert [(t["symbol"], t["bid"], t["ask"], t["bidSize"], t["askSize"]) for t in tickers] == [
        (b["s"], b["b"], b["a"], b["B"], b["A"]) for b in books
    ]
    # the recorded book frames carry no time: the receive time stands in
    assert {t["time"] for t in tickers} == {"2023-11-14T22:13:20.000Z"}


async def test_coinbase_one_trade_per_match_and_last_match_only_seeds() -> None:
    matches = [f for f in received(COINBASE) if f["type"] == "match"]
    assert matches
    stream = feed_stream(coinbase_options(["matches"]))
    decoded = await decode(WsFeedSource(), recorded_frames(COINBASE), [stream])
    got = trades(decoded)
    assert [(t["id"], t["symbol"], t["price"], t["size"], t["time"]) for t in got] == [
        (str(m["trade_id"]), m["product_id"], m["price"], m["size"], m["time"]) for m in matches
    ]
    # Coinbase's side is the maker's: a sell maker means the taker bought
    assert [t["side"] for t in got] == ["buy" if m["side"] == "sell" else "sell" for m in matches]
    assert decoded.gaps == [], "trade ids run on from each product's last_match"
    cursor = orjson.loads(decoded.cursor or "{}")
    last = {m["product_id"]: m["trade_id"] for m in received(COINBASE) if "trade_id" in m}
    assert cursor["seq"] == {f"match|{p}": n for p, n in last.items()}


async def test_coinbase_tickers() -> None:
    tickers = [f for f in received(COINBASE) if f["type"] == "ticker"]
    stream = feed_stream(coinbase_options(["ticker"]))
    decoded = await decode(WsFeedSource(), recorded_frames(COINBASE), [stream])
    got = [c for c in decoded.changes if c.type == EventType.TICKER_UPDATE]
    assert [(c.object_id, c.payload["ticker"]["price"]) for c in got] == [
        (f"{t['product_id']}:{t['sequence']}", t["price"]) for t in tickers
    ]


async def test_a_missing_match_is_a_sequence_gap_of_exactly_what_was_skipped() -> None:
    frames = recorded_frames(COINBASE)
    index = next(i for i, f in enumerate(frames) if '"type":"match"' in str(f.data))
    skipped = orjson.loads(frames[index].data)
    stream = feed_stream(coinbase_options(["matches"]))
    decoded = await decode(WsFeedSource(), frames[:index] + frames[index + 1 :], [stream])
    assert [(sid, g.reason, g.missed) for sid, g in decoded.gaps] == [("s1", "sequence_gap", 1)]
    assert str(skipped["trade_id"]) not in {t["id"] for t in trades(decoded)}


async def test_a_replay_of_what_the_cursor_covers_yields_nothing_and_a_new_source_agrees() -> None:
    stream = feed_stream(coinbase_options(["matches"]))
    frames = recorded_frames(COINBASE)
    first = await decode(WsFeedSource(), frames, [stream])
    assert trades(first)
    # another worker takes over with the saved cursor and the upstream sends it all again
    again = await decode(WsFeedSource(), frames, [stream], first.cursor)
    assert again.changes == [] and again.gaps == []


async def test_a_reconnect_is_a_gap_unless_sequence_numbers_prove_nothing_was_missed() -> None:
    generic = feed_stream({"map": {"match": {"$.type": "l2update"}}}, sid="g")
    trades_only = feed_stream(coinbase_options(["matches"]), sid="t")
    source = WsFeedSource()
    frames = recorded_frames(COINBASE)[:50]
    for stream in (generic, trades_only):
        key = source.connection_key(stream)
        first = await source.decode(key, frames, [stream], None)
        assert first.gaps == [] and first.cursor is not None
        with pytest.raises(PushConnectionError):  # nothing listens there: a failed reconnect
            await source.connect(key, [stream], first.cursor)
        after = await source.decode(key, frames, [stream], first.cursor)
        reasons = [g.reason for _, g in after.gaps]
        assert reasons == (["reconnect"] if stream is generic else []), stream.id


async def test_streams_started_after_a_frame_arrived_do_not_get_it() -> None:
    old = feed_stream(coinbase_options(["matches"]), sid="old", created=0)
    new = feed_stream(coinbase_options(["matches"]), sid="new", created=10.0)
    frames = [Frame(f.data, 5.0) for f in recorded_frames(COINBASE)]
    decoded = await decode(WsFeedSource(), frames, [old, new])
    assert trades(decoded, "old") and trades(decoded, "new") == []


async def test_generic_map_takes_id_time_text_and_data_from_paths() -> None:
    books = [f for f in received(BINANCE) if f["stream"].endswith("@bookTicker")]
    stream = feed_stream(
        {
            "map": {
                "match": {"$.stream": {"suffix": "@bookTicker"}},
                "id": "$.data.u",
                "text": "data.s",
                "data": "$.data",
            }
        }
    )
    decoded = await decode(WsFeedSource(), recorded_frames(BINANCE), [stream])
    messages = [c.payload["message"] for c in decoded.changes]
    assert [c.type for c in decoded.changes] == [EventType.MESSAGE_NEW] * len(books)
    assert messages == [
        {"id": str(b["data"]["u"]), "data": b["data"], "text": b["data"]["s"]} for b in books
    ]


async def test_without_an_id_the_frame_hash_is_the_id_stable_across_sources() -> None:
    stream = feed_stream({"map": {"match": {"$.data.e": "kline"}, "time": "$.data.E"}})
    frames = recorded_frames(BINANCE)
    first = await decode(WsFeedSource(), frames, [stream])
    second = await decode(WsFeedSource(), frames, [stream])
    kline = [f for f in received(BINANCE) if f["data"].get("e") == "kline"]
    assert len(first.changes) == len(kline) == len({c.object_id for c in first.changes})
    assert [c.object_id for c in first.changes] == [c.object_id for c in second.changes]
    assert [c.payload["message"]["data"] for c in first.changes] == kline
    assert first.changes[0].payload["message"]["time"].startswith("2021-10-12T00:28:")


async def test_a_map_matching_nothing_for_a_while_is_one_notice() -> None:
    stream = feed_stream({"map": {"match": {"$.type": "nothing"}}, "noMatchNotice": 60})
    source = WsFeedSource()
    frames = [Frame('{"type": "other"}', t) for t in (0.0, 30.0, 61.0, 62.0, 200.0)]
    decoded = await decode(source, frames, [stream])
    assert [(sid, n.kind) for sid, n in decoded.notices] == [("s1", "map_unmatched")]
    assert (
        "61 s" in decoded.notices[0][1].message and "options.map" in decoded.notices[0][1].message
    )
    assert decoded.errors == []


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ("not json at all", "not_json"),
        (b"\xff\x00binary", "not_json"),
        ('{"pad": "' + "x" * 2000 + '"}', "too_large"),
        ('{"type": "match", "product_id": "BTC-USD", "trade_id": 5}', "bad_frame"),
        ('{"type": "match", "product_id": "BTC-USD", "trade_id": "five"}', "bad_frame"),
        ('{"type": "error", "message": "Failed", "reason": "bad product"}', "upstream_error"),
    ],
)
async def test_bad_frames_are_frame_errors_and_the_rest_of_the_batch_goes_on(
    data: str | bytes, kind: str
) -> None:
    options = {**coinbase_options(["matches"]), "maxFrameBytes": 1024}
    stream = feed_stream(options)
    good = next(f for f in recorded_frames(COINBASE) if '"type":"match"' in str(f.data))
    decoded = await decode(WsFeedSource(), [Frame(data, 0.0), good], [stream])
    assert [e.kind for e in decoded.errors] == [kind]
    assert len(trades(decoded)) == 1


async def test_many_bad_frames_in_a_batch_are_one_error_per_kind() -> None:
    stream = feed_stream({"map": {}})
    decoded = await decode(WsFeedSource(), [Frame("nope", 0.0)] * 50, [stream])
    assert len(decoded.errors) == 1 and "and more" in decoded.errors[0].message
