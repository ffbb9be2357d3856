"""The parsers over every recorded X response; expected values were looked up in the recordings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from herald.sources.x import parse_tweets, parse_user, parse_users
from herald.sources.x.parse import parse_tweet_result

Load = Callable[[str], dict[str, Any]]


@pytest.fixture
def load(fixtures_dir: Path) -> Load:
    def read(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((fixtures_dir / "x" / name).read_text("utf-8"))
        return data

    return read


def raw_tweet_results(obj: Any) -> Iterator[dict[str, Any]]:
    """Every top-level ``tweet_results.result`` object, found without the parser."""
    if isinstance(obj, dict):
        if "tweet_results" in obj and "promotedMetadata" not in obj:
            yield obj["tweet_results"]["result"]
            return
        for value in obj.values():
            yield from raw_tweet_results(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from raw_tweet_results(value)


def test_user_by_screen_name(load: Load) -> None:
    user = parse_user(load("raw_user_by_login.json"))
    assert user.id == "2244994945"
    assert user.username == "XDevelopers"
    assert user.name == "Developers"
    assert user.followers_count == 695695
    assert user.following_count == 762
    assert user.tweets_count == 4319
    assert user.created_at == "2013-12-14T04:35:55Z"
    assert user.avatar_url == (
        "https://pbs.twimg.com/profile_images/1683501992314798080/xl1POYLw_normal.jpg"
    )
    assert user.description.startswith("The voice of the X Dev team")
    assert user.blue_verified is True
    assert user.verified is False
    assert user.protected is False


def test_followers(load: Load) -> None:
    page = parse_users(load("raw_followers.json"))
    assert len(page.users) == 69
    assert len({u.id for u in page.users}) == 69
    first, engineering, last = page.users[0], page.users[4], page.users[-1]
    assert (first.id, first.username, first.name) == (
        "236209129",
        "leslieberland",
        "Leslie Berland",
    )
    assert first.followers_count == 127315
    assert first.following_count == 3814
    assert first.created_at == "2011-01-10T02:06:34Z"
    assert first.description == "CMO Verizon"
    assert (engineering.username, engineering.followers_count) == ("Engineering", 1310944)
    assert (last.id, last.username, last.tweets_count) == (
        "2085371120388030464",
        "TeresaBetthdy",
        0,
    )
    assert page.cursor_top == "-1|2085474371463282689"
    assert page.cursor_bottom == "1872784690123924126|2085474371463282617"


def test_user_tweets_entries(load: Load) -> None:
    page = parse_tweets(load("raw_user_tweets.json"))
    ids = [t.id for t in page.tweets]
    # 1 pinned + 18 timeline items + 2 from the profile-conversation module; no who-to-follow.
    assert len(ids) == 21
    assert ids[0] == "2019881223666233717"
    assert ids[6:8] == ["2082640274845811115", "2082640276389249363"]
    assert ids[-1] == "2072126677535346779"
    assert {t.author for t in page.tweets} == {"XDevelopers"}
    assert [t.id for t in page.tweets if t.pinned] == ["2019881223666233717"]
    assert page.cursor_top == "DAAHCgABHPEX6f7AJxELAAIAAAATMjA4MzMwNTIzNDY4ODgwMzE3OAgAAwAAAAEAAA"
    assert (
        page.cursor_bottom == "DAAHCgABHPEX6f6__-sLAAIAAAATMjA3MjEyNjY3NzUzNTM0Njc3OQgAAwAAAAIAAA"
    )


def test_pinned_tweet_fields(load: Load) -> None:
    pinned = parse_tweets(load("raw_user_tweets.json")).tweets[0]
    assert pinned.pinned is True
    assert pinned.author_name == "Developers"
    assert pinned.author_id == "2244994945"
    assert pinned.timestamp == "2026-02-06T21:09:45Z"
    assert pinned.url == "https://x.com/XDevelopers/status/2019881223666233717"
    assert pinned.lang == "en"
    assert pinned.text.startswith("Officially launching X API Pay-Per-Use\n\n")
    assert pinned.metrics == {
        "likes": 5569,
        "retweets": 832,
        "replies": 783,
        "quotes": 573,
        "bookmarks": 2810,
        "views": 2525462,
    }
    assert not (pinned.is_retweet or pinned.is_reply or pinned.quoted_id)


def test_retweet_keeps_retweeter_and_full_text(load: Load) -> None:
    tweets = {t.id: t for t in parse_tweets(load("raw_user_tweets.json")).tweets}
    rt = tweets["2082669627528601817"]
    assert rt.is_retweet is True
    assert rt.author == "XDevelopers"
    assert rt.retweeted_id == "2082642493892628916"
    assert rt.url == "https://x.com/XDevelopers/status/2082669627528601817"
    assert rt.timestamp == "2026-07-30T03:28:27Z"
    # The retweet's own full_text is cut at 140 chars with "…"; the original is whole.
    assert rt.text.startswith("RT @santiagomed: ")
    assert "support & automation" in rt.text
    assert rt.text.endswith("Today it has one")
    assert rt.quoted_id == "2082640274845811115"
    assert rt.metrics["retweets"] == 24
    assert rt.metrics["views"] == 186
    assert sum(t.is_retweet for t in tweets.values()) == 16


def test_conversation_module_and_reply(load: Load) -> None:
    tweets = {t.id: t for t in parse_tweets(load("raw_user_tweets.json")).tweets}
    head, reply = tweets["2082640274845811115"], tweets["2082640276389249363"]
    assert head.text.startswith("X Chat API & Chat XDK are live!")
    assert "C# & Java" in head.text
    assert "&amp;" not in head.text
    assert head.is_reply is False
    assert reply.is_reply is True
    assert reply.in_reply_to_id == "2082640274845811115"
    assert reply.text == "Get started with the Chat XDK\nhttps://t.co/uD4EXaDs5h"


def test_search(load: Load) -> None:
    page = parse_tweets(load("raw_search.json"))
    assert len(page.tweets) == 20
    first = page.tweets[0]
    assert (first.id, first.author, first.author_name) == (
        "2074976613713031490",
        "piloly",
        "Roland Pircher",
    )
    assert first.url == "https://x.com/piloly/status/2074976613713031490"
    assert first.timestamp == "2026-07-08T21:59:10Z"
    # A long tweet: the note text wins over the truncated legacy.full_text.
    assert first.text.endswith("(~60% of Tesla sales in Europe)")
    assert "https://t.co/a4Rv89h19G" not in first.text
    assert page.cursor_top is not None and page.cursor_top.startswith("DAADDAABCgABHMvMPImb")
    assert page.cursor_bottom is not None and page.cursor_bottom != page.cursor_top


def test_search_quotes_are_not_returned_as_tweets(load: Load) -> None:
    tweets = parse_tweets(load("raw_search.json")).tweets
    quoting = {t.id: t.quoted_id for t in tweets if t.quoted_id}
    assert quoting == {
        "2074963269429661921": "2072535265533456878",
        "2074955486441492823": "2074915723487678904",
        "2074954293514309854": "2071385784154759468",
        "2074953500061053347": "2074872589680250978",
        "2074953114466033994": "2074879892001620294",
    }
    assert not set(quoting.values()) & {t.id for t in tweets}
    musk = next(t for t in tweets if t.id == "2074955486441492823")
    assert musk.author == "elonmusk"
    assert musk.metrics["views"] == 1982218


def test_note_tweet_text_is_not_unescaped_twice(load: Load) -> None:
    tweet = next(
        t for t in parse_tweets(load("raw_search.json")).tweets if t.id == "2074960554146267459"
    )
    assert "prep, & Optimus Factory" in tweet.text
    assert tweet.text.endswith("Link to 4K video below!")


def test_tweet_detail_with_visibility_wrapper(load: Load) -> None:
    raw = load("raw_tweet_detail_with_visibility_wrapper.json")
    page = parse_tweets(raw)
    ids = [t.id for t in page.tweets]
    assert len(ids) == 11
    assert ids[0] == "1671753569412820992"
    assert "1667220696295178240" not in ids  # the promoted (wrapped) entry
    head = page.tweets[0]
    assert (head.author, head.author_name) == ("buitengebieden", "Buitengebieden")
    assert head.metrics["likes"] == 40178
    assert all(t.is_reply for t in page.tweets[1:])
    assert page.cursor_bottom is not None and page.cursor_bottom.startswith("bQAAAPAxHBm2")
    entries = raw["data"]["threaded_conversation_with_injections_v2"]["instructions"][0]["entries"]
    item = entries[3]["content"]["items"][0]["item"]["itemContent"]
    wrapped = item["tweet_results"]["result"]
    assert wrapped["__typename"] == "TweetWithVisibilityResults"
    tweet = parse_tweet_result(wrapped)
    assert tweet is not None
    assert (tweet.id, tweet.author) == ("1667220696295178240", "tordosweet_co")
    assert tweet.timestamp == "2023-06-09T17:22:44Z"


@pytest.mark.parametrize(
    "name",
    ["raw_user_tweets.json", "raw_search.json", "raw_tweet_detail_with_visibility_wrapper.json"],
)
def test_every_recorded_tweet_matches_its_legacy_fields(load: Load, name: str) -> None:
    raw = load(name)
    parsed = {t.id: t for t in parse_tweets(raw).tweets}
    results = list(raw_tweet_results(raw))
    assert len(parsed) == len({r["rest_id"] for r in results})
    for result in results:
        tweet, legacy = parsed[result["rest_id"]], result["legacy"]
        assert tweet.metrics["likes"] == legacy["favorite_count"]
        assert tweet.metrics["retweets"] == legacy["retweet_count"]
        assert tweet.metrics["replies"] == legacy["reply_count"]
        assert tweet.metrics["quotes"] == legacy["quote_count"]
        assert tweet.metrics["views"] == int(result["views"]["count"])
        assert tweet.author_id == legacy["user_id_str"]
        assert tweet.url.endswith(f"/{tweet.author}/status/{tweet.id}")
        assert "&amp;" not in tweet.text and "&gt;" not in tweet.text
        assert tweet.timestamp.endswith("Z") and len(tweet.timestamp) == 20
