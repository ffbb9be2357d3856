"""Shapes the parsers do not know must raise, naming the path, never look like "nothing new"."""

from __future__ import annotations

from typing import Any

import pytest

from herald.errors import (
    AccountAuthFailed,
    AccountLocked,
    RateLimited,
    SchemaError,
    UpstreamError,
    UserNotFound,
)
from herald.sources.x import parse_tweets, parse_user, parse_users
from herald.sources.x.parse import iso_timestamp

Json = dict[str, Any]


def tweets_of(result: Json) -> Json:
    entry = {
        "entryId": "tweet-1",
        "content": {
            "entryType": "TimelineTimelineItem",
            "itemContent": {"itemType": "TimelineTweet", "tweet_results": {"result": result}},
        },
    }
    instructions = [{"type": "TimelineAddEntries", "entries": [entry]}]
    return {
        "data": {"user": {"result": {"timeline": {"timeline": {"instructions": instructions}}}}}
    }


def test_user_of_neither_generation_names_both_paths() -> None:
    raw = {"data": {"user": {"result": {"__typename": "User", "rest_id": "1", "core": {}}}}}
    with pytest.raises(SchemaError) as caught:
        parse_user(raw)
    assert "data.user.result.core.screen_name" in caught.value.path
    assert "data.user.result.legacy.screen_name" in caught.value.path


def test_user_without_follower_count_raises() -> None:
    result = {"rest_id": "1", "core": {"screen_name": "a", "name": "A"}}
    with pytest.raises(SchemaError) as caught:
        parse_user({"data": {"user": {"result": result}}})
    assert "relationship_counts.followers" in caught.value.path


def test_timeline_of_neither_generation_names_the_paths() -> None:
    raw = {"data": {"user": {"result": {"__typename": "User", "timeline_v3": {}}}}}
    with pytest.raises(SchemaError) as caught:
        parse_tweets(raw)
    assert "data.user.result.timeline.timeline.instructions" in caught.value.path
    assert "data.user.result.timeline_v2.timeline.instructions" in caught.value.path
    with pytest.raises(SchemaError):
        parse_users(raw)


@pytest.mark.parametrize("raw", [{}, {"data": None}, [], "oops", {"data": []}])
def test_no_data_object(raw: Any) -> None:
    with pytest.raises(SchemaError):
        parse_tweets(raw)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (32, AccountAuthFailed),
        (353, AccountAuthFailed),
        (88, RateLimited),
        (326, AccountLocked),
        (50, UserNotFound),
        (999, UpstreamError),
    ],
)
def test_errors_without_data(code: int, error: type[Exception]) -> None:
    raw = {"errors": [{"code": code, "message": "nope"}]}
    for parse in (parse_user, parse_users, parse_tweets):
        with pytest.raises(error, match=f"X error {code}: nope"):
            parse(raw)


def test_errors_next_to_data_are_ignored() -> None:
    raw = tweets_of({"__typename": "TweetTombstone"})
    raw["errors"] = [{"code": 37, "message": "partial"}]
    assert parse_tweets(raw).tweets == []


@pytest.mark.parametrize(
    "raw", [{"data": {}}, {"data": {"user": {}}}, {"data": {"user": {"result": {}}}}]
)
def test_unknown_user(raw: Json) -> None:
    with pytest.raises(UserNotFound):
        parse_user(raw)
    if "user" in raw["data"]:
        with pytest.raises(UserNotFound):
            parse_tweets(raw)
        with pytest.raises(UserNotFound):
            parse_users(raw)


def test_unavailable_user() -> None:
    raw = {"data": {"user": {"result": {"__typename": "UserUnavailable", "reason": "Suspended"}}}}
    with pytest.raises(UserNotFound, match="Suspended"):
        parse_user(raw)
    with pytest.raises(UserNotFound):
        parse_tweets(raw)


def test_tweet_without_legacy_names_the_path() -> None:
    with pytest.raises(SchemaError) as caught:
        parse_tweets(tweets_of({"__typename": "Tweet", "rest_id": "1", "core": {}}))
    assert caught.value.path.endswith("entries[0].content.itemContent.tweet_results.result.legacy")


def test_unknown_tweet_type_raises() -> None:
    with pytest.raises(SchemaError, match="TweetFromTheFuture"):
        parse_tweets(tweets_of({"__typename": "TweetFromTheFuture"}))


def test_instructions_not_a_list() -> None:
    raw = {"data": {"search_by_raw_query": {"search_timeline": {"timeline": {"instructions": {}}}}}}
    with pytest.raises(SchemaError, match="instructions"):
        parse_tweets(raw)


def test_timestamps() -> None:
    assert iso_timestamp("Wed Oct 10 20:19:24 +0000 2018") == "2018-10-10T20:19:24Z"
    assert iso_timestamp("Wed Oct 10 23:19:24 +0300 2018") == "2018-10-10T20:19:24Z"
    with pytest.raises(SchemaError):
        iso_timestamp("2018-10-10 20:19:24")
    with pytest.raises(SchemaError):
        iso_timestamp("Wed Foo 10 20:19:24 +0000 2018")


@pytest.mark.parametrize("entries", [{}, ["not an entry"], None])
def test_entries_that_are_not_objects(entries: Any) -> None:
    instructions = [{"type": "TimelineAddEntries", "entries": entries}]
    raw = {"data": {"user": {"result": {"timeline": {"timeline": {"instructions": instructions}}}}}}
    with pytest.raises(SchemaError, match="entries"):
        parse_tweets(raw)
