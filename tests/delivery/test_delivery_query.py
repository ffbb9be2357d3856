"""The one query model: what it accepts, what it refuses (and how it says so), and the
``platforms`` filter."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from herald.auth import Principal
from herald.delivery.subscription import (
    MAX_LIMIT,
    Query,
    Selector,
    known_platforms,
    parse_query,
    parse_subscription,
    raw_from_params,
)
from herald.errors import Forbidden, HeraldError, ValidationError
from herald.sources.catalog import stream_types
from herald.store.logentry import Entry


def entry(body: dict[str, Any], offset: str = "1-0") -> Entry:
    fields = {b"t": body["type"].encode(), b"s": b"s1", b"e": orjson.dumps(body)}
    return Entry.from_fields(offset.encode(), fields)


def refusal(raw: Any, *, pull: bool = False) -> str:
    with pytest.raises(HeraldError) as caught:
        parse_query(raw, pull=pull)
    return caught.value.detail


def test_known_platforms_come_from_the_catalog() -> None:
    assert known_platforms() == tuple(sorted({t.platform for t in stream_types()} | {"herald"}))
    assert "x" in known_platforms()


def test_herald_s_own_events_can_be_selected_by_platform() -> None:
    """Alerts and pipeline outputs say ``platform: "herald"``: a filter on it is no error."""
    query = parse_query({"platforms": ["herald"]})
    assert query.selector.platforms == frozenset({"herald"})


def test_an_unknown_platform_is_refused_naming_the_known_ones() -> None:
    detail = refusal({"platforms": ["x", "myspace"]})
    assert detail == f"platforms: unknown platform 'myspace'; known: {', '.join(known_platforms())}"
    assert refusal({"platforms": "x,bad name"}).startswith("platforms: contains an invalid value")
    assert refusal({"platforms": [1]}) == "platforms: must be a list of strings"


def test_platforms_match_the_body_and_events_without_one_are_x() -> None:
    selector = parse_query({"platforms": ["x"]}).selector
    assert selector.platforms == frozenset({"x"})
    tweet = {"type": "stream:tweet:new", "streamId": "s1", "tweet": {"text": "hi"}}
    assert selector.matches(entry(tweet))  # appended before events carried a platform
    assert selector.matches(entry({**tweet, "platform": "x"}))
    assert not selector.matches(entry({**tweet, "platform": "rss"}))
    assert selector.matches(entry({**tweet, "platform": ""}))  # empty means x too
    assert Selector().matches(entry({**tweet, "platform": "rss"}))


def test_platforms_inside_filters_is_the_same_query() -> None:
    top = parse_query({"platforms": ["x"], "filters": {"keywords": ["a"]}}).selector
    inner = parse_query({"filters": {"platforms": ["x"], "keywords": ["a"]}}).selector
    assert top.key == inner.key and inner.platforms == frozenset({"x"})
    assert refusal({"platforms": ["x"], "filters": {"platforms": ["y"]}}).startswith(
        "platforms: given twice"
    )
    assert refusal({"filters": {"platforms": ["nope"]}}).startswith("platforms: unknown platform")


def test_the_group_key_tells_platforms_apart_and_is_unchanged_without_them() -> None:
    assert Selector().key == "*|*|"
    assert Selector(platforms=frozenset({"x"})).key == "*|*|@x|"
    keyed = parse_query({"platforms": ["x"], "filters": {"keywords": ["a"]}}).selector.key
    plain = parse_query({"filters": {"keywords": ["a"]}}).selector.key
    assert keyed != plain and keyed.startswith("*|*|@x|{")
    assert parse_query({"platforms": ["x"]}).selector.describe()["platforms"] == ["x"]


def test_pull_fields_only_where_a_client_pulls() -> None:
    assert refusal({"limit": 5}) == (
        "limit is not a known field; known: streamIds, types, platforms, sentiment, channels, "
        "filters, since, replay"
    )
    query = parse_query({"limit": "5", "wait": "1.5", "since": "0"}, pull=True)
    assert (query.limit, query.wait, query.since) == (5, 1.5, "0")
    assert parse_query({}, pull=True) == Query(Selector(), None, 100, 0.0)
    bad: Any
    for bad in (0, MAX_LIMIT + 1, True, "1.5", "x", -1):
        assert refusal({"limit": bad}, pull=True) == "limit: must be a whole number from 1 to 1000"
    for bad in (-1, 61, "soon", float("nan"), True):
        assert refusal({"wait": bad}, pull=True) == "wait: must be from 0 to 60 seconds"


def test_since_is_an_offset_or_now() -> None:
    for now in (None, "", "$"):
        assert parse_query({"since": now}).since is None
    assert parse_query({"since": "1700000000000"}).since == "1700000000000"
    assert refusal({"since": "yesterday"}) == (
        'since: \'yesterday\' is not a log offset such as "1700000000000-0" ("$": from now)'
    )
    assert refusal({"since": 5}).startswith("since: int is not a log offset")


def test_types_and_filters_keep_their_rules() -> None:
    assert parse_query({"types": "tweet:new"}).selector.types == frozenset({"stream:tweet:new"})
    assert "unknown event type 'nope'" in refusal({"types": ["nope"]})
    assert refusal({"filters": {"sentimentt": 1}}).startswith("filters.sentimentt is not a known")
    assert refusal([1]).startswith("payload must be an object")


def test_a_limited_token_is_narrowed_or_refused() -> None:
    reader = Principal("jwt:r", streams=frozenset({"s1", "s2"}))
    assert parse_subscription({}, reader).selector.stream_ids == frozenset({"s1", "s2"})
    assert parse_query({"streamIds": ["s1"]}, reader, pull=True).selector.stream_ids == frozenset(
        {"s1"}
    )
    with pytest.raises(Forbidden, match="streamIds: not permitted by your token: s3"):
        parse_query({"streamIds": ["s1", "s3"]}, reader)


class Params:
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self.items if k == key]

    def get(self, key: str, /) -> str | None:
        values = self.getlist(key)
        return values[-1] if values else None


def test_url_parameters_round_trip() -> None:
    raw = {
        "streamIds": ["b", "a"],
        "types": ["tweet:new", "stream:error"],
        "platforms": ["x"],
        "filters": {"keywords": ["Launch"], "excludeRetweets": True},
        "since": "5-1",
        "limit": 7,
        "wait": 2,
    }
    query = parse_query(raw, pull=True)
    items = [(k, str(v)) for k, v in query.params().items()]
    again = parse_query(raw_from_params(Params(items), pull=True), pull=True)
    assert query.selector.key == "a,b|stream:error,stream:tweet:new|@x|" + str(
        query.selector.filter and query.selector.filter.key
    )
    assert (again.selector.key, again.since, again.limit, again.wait) == (
        query.selector.key,
        "5-1",
        7,
        2.0,
    )
    repeated = Params([("types", "tweet:new"), ("types", "error"), ("streamIds", "a,b")])
    assert raw_from_params(repeated, pull=False) == {
        "streamIds": ["a", "b"],
        "types": ["tweet:new", "error"],
    }
    with pytest.raises(ValidationError, match="filters: must be a JSON object"):
        raw_from_params(Params([("filters", "{nope")]), pull=False)


def test_a_replay_range_takes_offsets_and_iso_times() -> None:
    from herald.delivery.subscription import MAX_SEQ

    rng = parse_query({"replay": {"from": "5", "to": "1970-01-01T00:00:01Z", "speed": "x10"}})
    assert rng.replay is not None
    assert rng.replay.start.offset == "5-0" and rng.replay.start.low() == (5, 0)
    assert rng.replay.end is not None and rng.replay.end.high() == (1000, MAX_SEQ)
    assert rng.replay.speed == 10.0
    assert parse_query({"replay": {"from": "1-0"}}).replay.speed == float("inf")  # type: ignore[union-attr]
    naive = parse_query({"replay": {"from": "1970-01-01T00:00:02"}}).replay
    assert naive is not None and naive.start.ms == 2000  # a time without a zone is UTC


def test_replay_is_refused_where_it_does_not_fit() -> None:
    assert refusal({"replay": {"from": "1-0"}, "since": "1-0"}).startswith(
        "replay: cannot be combined with since"
    )
    assert refusal({"replay": {"from": "1-0"}}, pull=True).startswith("replay is not a known")
    assert refusal({"replay": "1-0"}) == "replay: must be an object {from, to?, speed?}"
    assert refusal({"replay": {"from": "2-0", "to": "1-5"}}) == (
        "replay: from (2-0) is after to (1-5)"
    )
    assert refusal({"replay": {"from": "1-0", "speed": "x0"}}) == "replay.speed must be more than 0"
    assert refusal({"replay": {"from": "1-0", "speed": "fast"}}) == (
        "replay.speed must be realtime, max or xN such as x10, not 'fast'"
    )
    assert refusal({"replay": {"from": "1-0", "speed": True}}).startswith("replay.speed:")


def test_replay_in_url_parameters_is_json() -> None:
    from starlette.datastructures import QueryParams

    raw = raw_from_params(QueryParams('replay={"from":"1-0","speed":"max"}'), pull=False)
    assert raw["replay"] == {"from": "1-0", "speed": "max"}
    with pytest.raises(ValidationError, match="replay: must be a JSON object"):
        raw_from_params(QueryParams("replay=nope"), pull=False)
    assert "replay" not in raw_from_params(QueryParams('replay={"from":"1"}'), pull=True)
