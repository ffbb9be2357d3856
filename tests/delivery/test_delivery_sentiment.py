"""The sentiment and channels filters: what they match, their errors, their canonical keys,
and the same selection on Socket.IO, ``/ws`` and SSE (the pull side, MCP and ``herald
tail`` are in tests/mcp/test_mcp_one_query_model.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
import socketio
import websockets
from delivery_helpers import Server, append, tweet, wait_for
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from herald.delivery.filters import parse_filter
from herald.delivery.subscription import parse_query, raw_from_params
from herald.errors import ValidationError
from herald.events import Event, EventType
from herald.sentiment import scored

pytestmark = pytest.mark.timeout(30)

FIELDS = {"tweet": "text", "mention": "text"}
TEXTS = {
    "positive": "What a wonderful, brilliant launch. I love it!",
    "negative": "This is a terrible, awful outage. I hate it.",
    "neutral": "The meeting is at noon on Tuesday.",
}


def scored_tweet(n: int, text: str, lang: str = "en", stream_id: str = "s1") -> Event:
    event = tweet(n, stream_id, text=text, lang=lang)
    event.payload = scored(event.payload, FIELDS)
    return event


def alert(n: int, channel: str | None) -> Event:
    payload: dict[str, Any] = {"alert": {"ruleId": f"r{n}", "state": "firing"}}
    if channel is not None:
        payload["channel"] = channel
    return Event(EventType.ALERT_FIRING, "alerts", "", f"fp{n}", payload)


def test_labels_ranges_and_unscored_events() -> None:
    bodies = {label: scored_tweet(1, text).body() for label, text in TEXTS.items()}
    assert {k: b["tweet"]["sentiment"]["label"] for k, b in bodies.items()} == {k: k for k in TEXTS}
    unscored = scored_tweet(2, "ひどい", lang="ja").body()
    assert "sentiment" not in unscored["tweet"]
    follower = Event(EventType.FOLLOWER_COUNT, "s1", "a", "1", {"followersCount": 3}).body()

    def matching(raw: Any) -> set[str]:
        compiled = parse_filter({"sentiment": raw})
        assert compiled is not None
        assert not compiled(unscored) and not compiled(follower)
        return {k for k, b in bodies.items() if compiled(b)}

    assert matching("negative") == {"negative"}
    assert matching(["positive", "neutral"]) == {"positive", "neutral"}
    assert matching({"max": -0.3}) == {"negative"}
    assert matching({"min": 0.05}) == {"positive"}
    assert matching({"min": -0.05, "max": 0.05}) == {"neutral"}
    assert matching({"min": -1, "max": 1}) == set(TEXTS)


def test_channels_match_the_top_level_channel() -> None:
    compiled = parse_filter({"channels": ["ops", "sales"]})
    assert compiled is not None
    assert compiled(alert(1, "ops").body())
    assert not compiled(alert(2, "other").body())
    assert not compiled(alert(3, None).body())
    assert not compiled(tweet(1).body())


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ({"sentiment": "happy"}, "sentiment: unknown label 'happy'; known: positive, negative"),
        ({"filters": {"sentiment": "happy"}}, "filters.sentiment: unknown label 'happy'"),
        ({"sentiment": []}, "sentiment must be positive, negative or neutral"),
        ({"sentiment": 0.5}, "sentiment must be positive, negative or neutral"),
        ({"sentiment": True}, "sentiment must be positive, negative or neutral"),
        ({"sentiment": {}}, "sentiment must be positive, negative or neutral"),
        ({"sentiment": {"min": 2}}, "sentiment.min must be a number from -1 to 1"),
        ({"sentiment": {"max": "0"}}, "sentiment.max must be a number from -1 to 1"),
        ({"sentiment": {"min": True}}, "sentiment.min must be a number from -1 to 1"),
        ({"sentiment": {"min": 0.5, "max": 0}}, "sentiment: min (0.5) is above max (0)"),
        ({"sentiment": {"low": 0}}, "sentiment.low is not a known field; known: min, max"),
        (
            {"sentiment": "negative", "filters": {"sentiment": "positive"}},
            "sentiment: given twice (top level and in filters) with different values",
        ),
        ({"channels": [1]}, "channels must be a list of non-empty strings"),
        ({"channels": [""]}, "channels must be a list of non-empty strings"),
        ({"filters": {"channels": "x" * 201}}, "filters.channels entries must be at most 200"),
    ],
)
def test_bad_values_are_refused_naming_the_field(raw: dict[str, Any], detail: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_query(raw)
    assert detail in caught.value.detail


def test_top_level_and_inner_spellings_and_url_parameters_agree() -> None:
    top = parse_query({"sentiment": ["neutral", "negative"], "channels": "ops"})
    inner = parse_query({"filters": {"sentiment": ["negative", "neutral"], "channels": ["ops"]}})
    assert top.selector.key == inner.selector.key
    same = parse_query({"sentiment": "negative", "filters": {"sentiment": ["negative"]}})
    assert same.selector.key == parse_query({"sentiment": "negative"}).selector.key

    url = raw_from_params(
        QueryParams({"sentiment": '{"min": -1, "max": -0.3}', "channels": "ops,sales"}),
        pull=True,
    )
    query = parse_query(url, pull=True)
    assert query.selector.describe()["filters"] == {
        "sentiment": {"min": -1.0, "max": -0.3},
        "channels": ["ops", "sales"],
    }
    # the pull route's parameters of a query give the query back
    params = QueryParams({k: str(v) for k, v in query.params().items()})
    assert (
        parse_query(raw_from_params(params, pull=True), pull=True).selector.key
        == query.selector.key
    )
    with pytest.raises(ValidationError, match="sentiment must be"):
        raw_from_params(QueryParams({"sentiment": "{not json"}), pull=True)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(["min", "max", "x"]) | st.text(max_size=4), inner)
        ),
        max_leaves=8,
    )
)
def test_any_value_is_a_filter_or_a_clear_error(value: Any) -> None:
    for raw in ({"sentiment": value}, {"channels": value}, {"filters": {"sentiment": value}}):
        try:
            query = parse_query(raw)
        except ValidationError as exc:
            assert exc.detail and ("sentiment" in exc.detail or "channels" in exc.detail)
            continue
        # an accepted filter evaluates on any body without raising
        compiled = query.selector.filter
        if compiled is not None:
            for body in (scored_tweet(1, TEXTS["negative"]).body(), alert(1, "ops").body(), {}):
                compiled(body)


async def _appended(server: Server) -> tuple[dict[str, str], list[str]]:
    """A negative, a positive and an unscored tweet, and alerts to ops and to sales."""
    events = [
        scored_tweet(1, TEXTS["negative"]),
        scored_tweet(2, TEXTS["positive"]),
        scored_tweet(3, "ひどい", lang="ja"),
        alert(4, "ops"),
        alert(5, "sales"),
        scored_tweet(6, TEXTS["negative"]),
    ]
    offsets = await append(server.redis, server.keys, events)
    names = ["neg1", "pos", "ja", "ops", "sales", "neg2"]
    return dict(zip(names, offsets, strict=True)), offsets


async def test_socketio_ws_and_sse_select_by_sentiment_and_channel(server: Server) -> None:
    query: dict[str, Any] = {"sentiment": {"max": -0.3}, "since": "0"}
    channel_query: dict[str, Any] = {"channels": ["ops"], "since": "0"}
    named, _ = await _appended(server)
    want = [named["neg1"], named["neg2"]]

    client = socketio.AsyncClient(reconnection=False)
    pushed: list[str] = []
    client.on("stream:tweet:new", lambda body: pushed.append(body["offset"]))
    await client.connect(server.url, transports=["websocket"], wait_timeout=10)
    try:
        ack = await client.call("subscribe", query, timeout=10)
        assert "error" not in ack, ack
        await wait_for(lambda: len(pushed) >= 2)
    finally:
        await client.disconnect()
    assert pushed == want

    async with websockets.connect(server.ws_url) as ws:
        for sub_id, payload in (("s", query), ("c", channel_query)):
            message = {"type": "events:stream:v1:requested", "id": sub_id, "payload": payload}
            await ws.send(orjson.dumps(message).decode())
        got: dict[str, list[str]] = {"s": [], "c": []}
        while len(got["s"]) < 2 or len(got["c"]) < 1:
            msg = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            assert msg["type"] != "events:stream:v1:error", msg
            if msg["type"] == "events:stream:v1:stream":
                got[msg["id"]].append(msg["payload"]["offset"])
    assert got == {"s": want, "c": [named["ops"]]}

    params = {"sentiment": "negative", "channels": "", "since": "0"}
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as http,
        http.stream("GET", "/api/events", params=params) as answer,
    ):
        assert answer.status_code == 200
        ids: list[str] = []
        async for line in answer.aiter_lines():
            if line.startswith("id: "):
                ids.append(line[4:])
                if len(ids) == 2:
                    break
    assert ids == want


async def test_bad_filters_get_the_same_answer_on_every_push_transport(server: Server) -> None:
    raw = {"sentiment": {"min": 0.5, "max": -0.5}}
    detail = "sentiment: min (0.5) is above max (-0.5)"
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(server.url, transports=["websocket"], wait_timeout=10)
    try:
        ack = await client.call("subscribe", raw, timeout=10)
    finally:
        await client.disconnect()
    assert ack == {"error": "validation_error", "detail": detail}
    async with websockets.connect(server.ws_url) as ws:
        msg = {"type": "events:stream:v1:requested", "id": "b", "payload": raw}
        await ws.send(orjson.dumps(msg).decode())
        while True:
            answer = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            if answer["type"] != "events:stream:v1:heartbeat":
                break
    assert answer["payload"] == {"error": "validation_error", "detail": detail}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        sse = await http.get(
            "/api/events", params={"sentiment": orjson.dumps(raw["sentiment"]).decode()}
        )
    assert sse.status_code == 400 and sse.json() == {"error": "validation_error", "detail": detail}
