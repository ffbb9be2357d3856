"""Response builders in X's 2026 web GraphQL shape.

Keys and nesting follow the recorded responses at every path the parsers read (and most of
the ones they don't), so that herald's client meets here exactly what it meets on x.com. The
values are synthetic; tests hold these builders against the recordings.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from herald.testing.fakex.state import FakeTweet, FakeUser

Json = dict[str, Any]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NOTE_TWEET_LIMIT = 280  # longer texts become note tweets, with a cut legacy.full_text
WEB_APP = '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>'


@dataclass(frozen=True, slots=True)
class Counts:
    followers: int
    following: int
    tweets: int


def x_date(moment: datetime) -> str:
    """X's ``created_at`` format, independent of the process locale."""
    day, month = _DAYS[moment.weekday()], _MONTHS[moment.month - 1]
    return f"{day} {month} {moment:%d %H:%M:%S} +0000 {moment.year}"


def _node_id(kind: str, rest_id: str) -> str:
    return base64.b64encode(f"{kind}:{rest_id}".encode()).decode()


def user_result(user: FakeUser, counts: Counts) -> Json:
    pinned = {"tweet_ids_str": [user.pinned_id]} if user.pinned_id else {}
    return {
        "__typename": "User",
        "action_counts": {"favorites_count": 0},
        "affiliates_highlighted_label": {},
        "avatar": {"image_url": f"https://pbs.twimg.com/profile_images/{user.id}/fake_normal.jpg"},
        "banner": {"image_url": f"https://pbs.twimg.com/profile_banners/{user.id}/1"},
        "core": {
            "created_at": x_date(user.created_at),
            "name": user.name,
            "screen_name": user.username,
        },
        "dm_permissions": {"can_dm": False},
        "follow_request_sent": False,
        "has_graduated_access": True,
        "id": _node_id("User", user.id),
        "is_blue_verified": False,
        "location": {"location": ""},
        "media_permissions": {"can_media_tag": True},
        "notifications_settings": {"notifications_enabled": False},
        "pinned_items": pinned,
        "possibly_sensitive": False,
        "privacy": {"protected": False},
        "profile_bio": {"description": user.description, "entities": {"description": {}}},
        "profile_image_shape": "Circle",
        "profile_metadata": {"profile_interstitial_type": ""},
        "profile_translation": {"translator_type": "none"},
        "relationship_counts": {"followers": counts.followers, "following": counts.following},
        "relationship_perspectives": {
            "blocked_by": False,
            "blocking": False,
            "followed_by": False,
            "following": False,
            "live_following": False,
            "muting": False,
        },
        "rest_id": user.id,
        "super_follow_eligible": False,
        "super_followed_by": False,
        "super_following": False,
        "tipjar_settings": {},
        "tweet_counts": {"media_tweets": 0, "tweets": counts.tweets},
        "verification": {"verified": False},
        "website": {"url": ""},
    }


def user_by_screen_name(result: Json | None) -> Json:
    """X answers an unknown screen name with an empty ``data``."""
    return {"data": {"user": {"result": result}}} if result else {"data": {}}


def _mention(text: str, user: FakeUser) -> Json:
    start = text.lower().find(f"@{user.username.lower()}")
    return {
        "id_str": user.id,
        "indices": [start, start + len(user.username) + 1],
        "name": user.name,
        "screen_name": user.username,
    }


METRIC_FIELDS = {
    "likes": "favorite_count",
    "retweets": "retweet_count",
    "replies": "reply_count",
    "quotes": "quote_count",
    "bookmarks": "bookmark_count",
}
"""The metric names of the control API and the ``legacy`` fields X counts them in."""


def _legacy(tweet: FakeTweet, mentions: list[FakeUser], counts: Mapping[str, int]) -> Json:
    text = tweet.text if len(tweet.text) <= NOTE_TWEET_LIMIT else tweet.text[:275] + "…"
    legacy: Json = {
        "bookmark_count": 0,
        "bookmarked": False,
        "conversation_id_str": tweet.id,
        "created_at": x_date(tweet.created_at),
        "display_text_range": [0, len(text)],
        "entities": {
            "hashtags": [],
            "symbols": [],
            "timestamps": [],
            "urls": [],
            "user_mentions": [
                _mention(text, u) for u in mentions if f"@{u.username.lower()}" in text.lower()
            ],
        },
        "favorite_count": 0,
        "favorited": False,
        "full_text": html.escape(text, quote=False),
        "id_str": tweet.id,
        "is_quote_status": False,
        "lang": "en",
        "quote_count": 0,
        "reply_count": 0,
        "retweet_count": 0,
        "retweeted": False,
        "user_id_str": tweet.author_id,
    }
    for name, key in METRIC_FIELDS.items():
        legacy[key] = counts.get(name, 0)
    if tweet.reply_to:
        legacy["in_reply_to_status_id_str"] = tweet.reply_to
    if tweet.quoted_id:
        legacy["is_quote_status"] = True
        legacy["quoted_status_id_str"] = tweet.quoted_id
    return legacy


def tweet_result(
    tweet: FakeTweet,
    author: Json,
    mentions: list[FakeUser],
    counts: Mapping[str, int] | None = None,
) -> Json:
    """``tweet_results.result`` for a tweet; ``author`` is its author's ``user_result``;
    ``counts`` its likes, retweets, replies, quotes, bookmarks and views (0 when absent)."""
    counts = counts or {}
    result: Json = {
        "__typename": "Tweet",
        "core": {"user_results": {"result": author}},
        "edit_control": {
            "edit_tweet_ids": [tweet.id],
            "editable_until_msecs": str(int(tweet.created_at.timestamp() * 1000) + 3_600_000),
            "edits_remaining": "5",
            "is_edit_eligible": False,
        },
        "grok_translated_post_with_availability": {"is_available": False},
        "is_translatable": False,
        "legacy": _legacy(tweet, mentions, counts),
        "quick_promote_eligibility": {"eligibility": "IneligibleNotProfessional"},
        "rest_id": tweet.id,
        "source": WEB_APP,
        "unmention_data": {},
        "views": {"count": str(counts.get("views", 0)), "state": "EnabledWithCount"},
    }
    if len(tweet.text) > NOTE_TWEET_LIMIT:
        note = {"id": _node_id("NoteTweet", tweet.id), "text": tweet.text}
        result["note_tweet"] = {"is_expandable": True, "note_tweet_results": {"result": note}}
    return result


def tweet_entry(result: Json, component: str = "tweet") -> Json:
    rest_id = result["rest_id"]
    return {
        "content": {
            "__typename": "TimelineTimelineItem",
            "clientEventInfo": {"component": component, "element": "tweet"},
            "entryType": "TimelineTimelineItem",
            "itemContent": {
                "__typename": "TimelineTweet",
                "itemType": "TimelineTweet",
                "tweetDisplayType": "Tweet",
                "tweet_results": {"result": result},
            },
        },
        "entryId": f"tweet-{rest_id}",
        "sortIndex": rest_id,
    }


def pin_entry(result: Json) -> Json:
    entry = tweet_entry(result, component="pinned_tweets")
    entry["content"]["itemContent"]["socialContext"] = {
        "contextType": "Pin",
        "text": "Pinned",
        "type": "TimelineGeneralContext",
    }
    return entry


def user_entry(result: Json, sort_index: str) -> Json:
    return {
        "content": {
            "__typename": "TimelineTimelineItem",
            "clientEventInfo": {"component": "FollowersSgs", "element": "user"},
            "entryType": "TimelineTimelineItem",
            "itemContent": {
                "__typename": "TimelineUser",
                "itemType": "TimelineUser",
                "userDisplayType": "User",
                "user_results": {"result": result},
            },
        },
        "entryId": f"user-{result['rest_id']}",
        "sortIndex": sort_index,
    }


def cursor_entry(kind: str, value: str, sort_index: str) -> Json:
    return {
        "content": {
            "__typename": "TimelineTimelineCursor",
            "cursorType": kind,
            "entryType": "TimelineTimelineCursor",
            "value": value,
        },
        "entryId": f"cursor-{kind.lower()}-{sort_index}",
        "sortIndex": sort_index,
    }


def add_entries(entries: list[Json]) -> Json:
    return {"type": "TimelineAddEntries", "entries": entries}


def user_timeline(instructions: list[Json], *, metadata: bool = True) -> Json:
    """UserTweets and Followers: ``data.user.result.timeline.timeline.instructions``."""
    timeline: Json = {"instructions": instructions}
    if metadata:
        timeline["metadata"] = {"scribeConfig": {"page": "profileBest"}}
    result = {"__typename": "User", "timeline": {"timeline": timeline}}
    return {"data": {"user": {"result": result}}}


def user_tweets(entries: list[Json], pinned: Json | None, cursors: list[Json]) -> Json:
    instructions: list[Json] = [{"type": "TimelineClearCache"}]
    if pinned is not None:
        instructions.append({"type": "TimelinePinEntry", "entry": pinned})
    instructions.append(add_entries(entries + cursors))
    return user_timeline(instructions)


def followers(entries: list[Json], cursors: list[Json]) -> Json:
    instructions = [
        {"type": "TimelineClearCache"},
        {"direction": "Top", "type": "TimelineTerminateTimeline"},
        {"direction": "Bottom", "type": "TimelineTerminateTimeline"},
        add_entries(entries + cursors),
    ]
    return user_timeline(instructions, metadata=False)


def search(entries: list[Json], cursors: list[Json], *, first_page: bool = True) -> Json:
    """SearchTimeline. Later pages replace the cursors instead of adding them, as X does."""
    if first_page:
        instructions = [add_entries(entries + cursors)]
    else:
        instructions = [add_entries(entries)] + [
            {"type": "TimelineReplaceEntry", "entry_id_to_replace": c["entryId"], "entry": c}
            for c in cursors
        ]
    timeline = {"timeline": {"instructions": instructions}}
    return {"data": {"search_by_raw_query": {"search_timeline": timeline}}}


def empty_timeline(operation: str) -> Json:
    """A well-formed answer without a single entry (the ``empty`` fault)."""
    if operation == "SearchTimeline":
        return {
            "data": {"search_by_raw_query": {"search_timeline": {"timeline": {"instructions": []}}}}
        }
    if operation == "UserByScreenName":
        return {"data": {}}
    return user_timeline([], metadata=False)


def error_body(code: int, message: str) -> Json:
    return {"errors": [{"code": code, "message": message}]}
