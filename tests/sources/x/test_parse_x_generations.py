"""Both X schema generations, written inline from their field names (2025 and 2026)."""

from __future__ import annotations

from typing import Any

from herald.sources.x import parse_tweets, parse_user, parse_users

Json = dict[str, Any]


def user_2025(rest_id: str, screen_name: str, followers: int = 10) -> Json:
    return {
        "__typename": "User",
        "rest_id": rest_id,
        "is_blue_verified": False,
        "legacy": {
            "screen_name": screen_name,
            "name": screen_name.title(),
            "followers_count": followers,
            "friends_count": 3,
            "statuses_count": 7,
            "created_at": "Wed Oct 10 20:19:24 +0000 2018",
            "description": "old &amp; new",
            "profile_image_url_https": "https://img.example/a.jpg",
            "verified": True,
            "protected": True,
        },
    }


def user_2026(rest_id: str, screen_name: str, followers: int = 10) -> Json:
    return {
        "__typename": "User",
        "rest_id": rest_id,
        "is_blue_verified": True,
        "core": {
            "screen_name": screen_name,
            "name": screen_name.title(),
            "created_at": "Thu Jul 30 01:31:49 -0130 2026",
        },
        "relationship_counts": {"followers": followers, "following": 4},
        "tweet_counts": {"tweets": 8, "media_tweets": 1},
        "avatar": {"image_url": "https://img.example/b.jpg"},
        "profile_bio": {"description": "bio"},
        "privacy": {"protected": False},
        "verification": {"verified": False},
    }


def tweet(rest_id: str, author: Json, text: str, **legacy: Any) -> Json:
    return {
        "__typename": "Tweet",
        "rest_id": rest_id,
        "core": {"user_results": {"result": author}},
        "views": {"count": "42", "state": "EnabledWithCount"},
        "legacy": {
            "created_at": "Wed Oct 10 20:19:24 +0000 2018",
            "full_text": text,
            "favorite_count": 1,
            "retweet_count": 2,
            "reply_count": 3,
            "quote_count": 4,
            "lang": "en",
            "user_id_str": author["rest_id"],
            **legacy,
        },
    }


def item(entry_id: str, result: Json, **extra: Any) -> Json:
    content = {"itemType": "TimelineTweet", "tweet_results": {"result": result}, **extra}
    return {
        "entryId": entry_id,
        "content": {"entryType": "TimelineTimelineItem", "itemContent": content},
    }


def cursor(kind: str, value: str) -> Json:
    content = {"entryType": "TimelineTimelineCursor", "cursorType": kind, "value": value}
    return {"entryId": f"cursor-{kind.lower()}-1", "content": content}


def timeline(key: str, instructions: list[Json]) -> Json:
    inner = {"timeline": {"instructions": instructions}}
    return {"data": {"user": {"result": {"__typename": "User", key: inner}}}}


def test_user_2025_generation() -> None:
    user = parse_user({"data": {"user": {"result": user_2025("12", "oldie", followers=99)}}})
    assert (user.id, user.username, user.name) == ("12", "oldie", "Oldie")
    assert (user.followers_count, user.following_count, user.tweets_count) == (99, 3, 7)
    assert user.created_at == "2018-10-10T20:19:24Z"
    assert user.avatar_url == "https://img.example/a.jpg"
    assert (user.verified, user.protected, user.blue_verified) == (True, True, False)


def test_user_2026_generation_converts_timezone() -> None:
    user = parse_user({"data": {"user": {"result": user_2026("13", "newbie", followers=5)}}})
    assert (user.username, user.followers_count, user.following_count) == ("newbie", 5, 4)
    assert user.tweets_count == 8
    assert user.created_at == "2026-07-30T03:01:49Z"
    assert (user.description, user.blue_verified) == ("bio", True)


def test_timeline_v2_2025_with_every_entry_kind() -> None:
    me, other = user_2025("1", "me"), user_2025("2", "other")
    original = tweet("50", other, "a &lt;b&gt; &amp; c")
    entries = [
        item("tweet-100", tweet("100", me, "plain &amp; simple")),
        item(
            "tweet-101",
            tweet("101", me, "RT @other: a…", retweeted_status_result={"result": original}),
        ),
        item(
            "tweet-102", tweet("102", me, "look", is_quote_status=True, quoted_status_id_str="50")
        ),
        item("tweet-103", tweet("103", me, "@other yes", in_reply_to_status_id_str="50")),
        item("tweet-104", {"__typename": "TweetTombstone", "tombstone": {}}),
        item("promoted-tweet-105", tweet("105", other, "buy"), promotedMetadata={"x": 1}),
        item(
            "tweet-106",
            {"__typename": "TweetWithVisibilityResults", "tweet": tweet("106", me, "w")},
        ),
        {
            "entryId": "profile-conversation-1",
            "content": {
                "entryType": "TimelineTimelineModule",
                "items": [
                    {
                        "entryId": "m-107",
                        "item": {
                            "itemContent": item("x", tweet("107", me, "in module"))["content"][
                                "itemContent"
                            ]
                        },
                    }
                ],
            },
        },
        {
            "entryId": "who-to-follow-1",
            "content": {
                "entryType": "TimelineTimelineModule",
                "items": [
                    {
                        "entryId": "w",
                        "item": {
                            "itemContent": {
                                "itemType": "TimelineUser",
                                "user_results": {"result": other},
                            }
                        },
                    }
                ],
            },
        },
        cursor("Top", "top-1"),
        cursor("Bottom", "bottom-1"),
    ]
    raw = timeline(
        "timeline_v2",
        [
            {"type": "TimelineClearCache"},
            {"type": "TimelinePinEntry", "entry": item("tweet-9", tweet("9", me, "pinned"))},
            {"type": "TimelineAddEntries", "entries": entries},
            {
                "type": "TimelineReplaceEntry",
                "entry_id_to_replace": "cursor-bottom-1",
                "entry": cursor("Bottom", "bottom-2"),
            },
        ],
    )
    page = parse_tweets(raw)
    assert [t.id for t in page.tweets] == ["9", "100", "101", "102", "103", "106", "107"]
    by_id = {t.id: t for t in page.tweets}
    assert by_id["9"].pinned and not any(t.pinned for t in page.tweets[1:])
    assert by_id["100"].text == "plain & simple"
    assert by_id["101"].is_retweet and by_id["101"].author == "me"
    assert by_id["101"].text == "RT @other: a <b> & c"
    assert by_id["101"].retweeted_id == "50"
    assert by_id["102"].quoted_id == "50" and not by_id["102"].is_retweet
    assert by_id["103"].is_reply and by_id["103"].in_reply_to_id == "50"
    assert by_id["100"].metrics == {
        "likes": 1,
        "retweets": 2,
        "replies": 3,
        "quotes": 4,
        "views": 42,
    }
    assert by_id["100"].url == "https://x.com/me/status/100"
    assert by_id["100"].author_name == "Me"
    assert (page.cursor_top, page.cursor_bottom) == ("top-1", "bottom-2")


def test_timeline_2026_note_tweet_overrides_full_text() -> None:
    me = user_2026("1", "me")
    long = tweet("200", me, "short &amp; cut…")
    long["note_tweet"] = {"note_tweet_results": {"result": {"text": "the whole & long text"}}}
    raw = timeline(
        "timeline", [{"type": "TimelineAddEntries", "entries": [item("tweet-200", long)]}]
    )
    (parsed,) = parse_tweets(raw).tweets
    assert parsed.text == "the whole & long text"
    assert parsed.author == "me"


def test_search_shape() -> None:
    entries = [item("tweet-300", tweet("300", user_2026("7", "fan"), "hi @me"))]
    instructions = [{"type": "TimelineAddEntries", "entries": entries}]
    raw = {
        "data": {
            "search_by_raw_query": {"search_timeline": {"timeline": {"instructions": instructions}}}
        }
    }
    (parsed,) = parse_tweets(raw).tweets
    assert (parsed.id, parsed.author, parsed.text) == ("300", "fan", "hi @me")


def test_followers_both_generations_and_no_suggestions() -> None:
    def user_item(entry_id: str, result: Json) -> Json:
        content = {"itemType": "TimelineUser", "user_results": {"result": result}}
        return {
            "entryId": entry_id,
            "content": {"entryType": "TimelineTimelineItem", "itemContent": content},
        }

    module = {
        "entryId": "who-to-follow-9",
        "content": {
            "entryType": "TimelineTimelineModule",
            "items": [
                {
                    "item": {
                        "itemContent": {
                            "itemType": "TimelineUser",
                            "user_results": {"result": user_2026("9", "suggested")},
                        }
                    }
                }
            ],
        },
    }
    entries = [
        user_item("user-1", user_2025("1", "a")),
        user_item("user-2", user_2026("2", "b")),
        user_item("user-3", {"__typename": "UserUnavailable", "reason": "Suspended"}),
        module,
        cursor("Bottom", "5|6"),
        cursor("Top", "-1|7"),
    ]
    page = parse_users(timeline("timeline", [{"type": "TimelineAddEntries", "entries": entries}]))
    assert [u.username for u in page.users] == ["a", "b"]
    assert (page.cursor_top, page.cursor_bottom) == ("-1|7", "5|6")


def test_empty_timeline_is_an_empty_page() -> None:
    page = parse_tweets(timeline("timeline", [{"type": "TimelineClearCache"}]))
    assert page.tweets == [] and page.cursor_top is None and page.cursor_bottom is None
    assert parse_tweets(timeline("timeline", [])).tweets == []
    assert (
        parse_users(timeline("timeline", [{"type": "TimelineAddEntries", "entries": []}])).users
        == []
    )
