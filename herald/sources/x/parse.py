"""Pure parsers for X's web GraphQL responses (no I/O).

X changes these shapes without notice, so every field is read from both schema generations
(2025: ``timeline_v2`` and ``user.legacy.*``; 2026: ``timeline`` and ``user.core.*``,
``relationship_counts``, ...). A shape neither generation explains raises
:class:`SchemaError` naming the path, because an empty list would look like "nothing new".
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from herald.errors import (
    AccountAuthFailed,
    AccountLocked,
    AccountSuspended,
    RateLimited,
    SchemaError,
    SourceError,
    UpstreamError,
    UserNotFound,
)
from herald.sources.models import Tweet, TweetPage, User, UserPage

Json = dict[str, Any]

_TIMELINE_PATHS = (
    "data.user.result.timeline.timeline.instructions",
    "data.user.result.timeline_v2.timeline.instructions",
    "data.search_by_raw_query.search_timeline.timeline.instructions",
    "data.threaded_conversation_with_injections_v2.instructions",
)
# Entries X injects into timelines that are not the timeline's own tweets.
_SKIPPED_MODULES = ("who-to-follow", "who-to-subscribe", "promoted", "superhero")
_SKIPPED_TWEETS = ("TweetTombstone", "TweetUnavailable")
_ERROR_CODES: dict[int, type[SourceError]] = {
    32: AccountAuthFailed,  # "Could not authenticate you."
    353: AccountAuthFailed,  # csrf token mismatch
    88: RateLimited,
    326: AccountLocked,
    64: AccountSuspended,
    50: UserNotFound,
    63: UserNotFound,
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_METRICS = (
    ("likes", "favorite_count"),
    ("retweets", "retweet_count"),
    ("replies", "reply_count"),
    ("quotes", "quote_count"),
    ("bookmarks", "bookmark_count"),
)


# --- generic access -----------------------------------------------------------------
_STEPS: dict[str, tuple[str, ...]] = {}


def _dig(obj: Any, dotted: str) -> Any:
    """The value at a dotted path, or None where any step is missing."""
    steps = _STEPS.get(dotted)
    if steps is None:  # the paths are literals in this module: the table stays small
        steps = _STEPS[dotted] = tuple(dotted.split("."))
    for key in steps:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _need(obj: Any, dotted: str, base: str) -> Any:
    value = _dig(obj, dotted)
    if value is None:
        raise SchemaError("missing field", path=f"{base}.{dotted}")
    return value


def _first(obj: Json, *dotted: str) -> Any:
    """The first of several paths present: how both schema generations are read."""
    for path in dotted:
        value = _dig(obj, path)
        if value is not None:
            return value
    return None


def _pick(obj: Json, base: str, *dotted: str) -> Any:
    value = _first(obj, *dotted)
    if value is None:
        tried = " | ".join(f"{base}.{p}" for p in dotted)
        raise SchemaError("neither schema generation matched", path=tried)
    return value


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def iso_timestamp(created_at: str, path: str = "created_at") -> str:
    """'Wed Oct 10 20:19:24 +0000 2018' -> '2018-10-10T20:19:24Z', locale-independent.

    A poll re-reads the same tweets each time, so answers are remembered.
    """
    known = _ISO.get(created_at)
    if known is not None:
        return known
    value = _iso_timestamp(created_at, path)
    if len(_ISO) >= _ISO_SIZE:
        _ISO.clear()
    _ISO[created_at] = value
    return value


_ISO: dict[str, str] = {}
_ISO_SIZE = 8192


def _iso_timestamp(created_at: str, path: str) -> str:
    try:
        _, month, day, clock, offset, year = created_at.split()
        hh, mm, ss = (int(p) for p in clock.split(":"))
        sign = -1 if offset.startswith("-") else 1
        tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
        moment = datetime(int(year), _MONTHS.index(month) + 1, int(day), hh, mm, ss, tzinfo=tz)
    except (ValueError, AttributeError) as exc:
        raise SchemaError(f"unreadable date {created_at!r}", path=path) from exc
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- response envelope ----------------------------------------------------------------
def _response_data(raw: Any) -> Json:
    """``raw["data"]``; an ``errors`` array without data becomes the matching herald error."""
    if not isinstance(raw, dict):
        raise SchemaError("response is not a JSON object", path="$")
    data = raw.get("data")
    errors = raw.get("errors")
    if not data and isinstance(errors, list) and errors:
        raise _error_from(errors)
    if not isinstance(data, dict):
        raise SchemaError("response has no data object", path="data")
    return data


def _error_from(errors: list[Any]) -> SourceError:
    first = errors[0] if isinstance(errors[0], dict) else {}
    code = _int(first.get("code"))
    message = str(first.get("message") or "unknown error")
    detail = f"X error {code}: {message}" if code is not None else f"X error: {message}"
    return _ERROR_CODES.get(code or -1, UpstreamError)(detail)


def _user_result(data: Json) -> Json:
    """``data.user.result``; X answers an unknown user with an empty ``data``/``data.user``."""
    result = _dig(data, "user.result")
    if not isinstance(result, dict) or not result:
        raise UserNotFound("X returned no user (unknown screen name or id)")
    if result.get("__typename") == "UserUnavailable":
        reason = result.get("reason") or result.get("message") or "unavailable"
        raise UserNotFound(f"user unavailable: {reason}")
    return result


# --- users ----------------------------------------------------------------------------
def parse_user_result(result: Json, base: str = "user") -> User:
    """One ``User`` object, from either schema generation."""
    created = _first(result, "core.created_at", "legacy.created_at")
    return User(
        id=str(_need(result, "rest_id", base)),
        username=str(_pick(result, base, "core.screen_name", "legacy.screen_name")),
        name=str(_first(result, "core.name", "legacy.name") or ""),
        followers_count=_int(
            _first(result, "relationship_counts.followers", "legacy.followers_count")
        ),
        following_count=_int(
            _first(result, "relationship_counts.following", "legacy.friends_count")
        ),
        tweets_count=_int(_first(result, "tweet_counts.tweets", "legacy.statuses_count")),
        verified=bool(_first(result, "verification.verified", "legacy.verified")),
        protected=bool(_first(result, "privacy.protected", "legacy.protected")),
        created_at=iso_timestamp(created, f"{base}.core.created_at") if created else None,
        description=str(_first(result, "profile_bio.description", "legacy.description") or ""),
        avatar_url=_first(result, "avatar.image_url", "legacy.profile_image_url_https"),
        blue_verified=bool(result.get("is_blue_verified")),
    )


def parse_user(raw: Json) -> User:
    """A UserByScreenName response. The follower count is required: streams diff on it."""
    data = _response_data(raw)
    base = "data.user.result"
    user = parse_user_result(_user_result(data), base)
    if user.followers_count is None:
        paths = f"{base}.relationship_counts.followers | {base}.legacy.followers_count"
        raise SchemaError("user has no follower count", path=paths)
    return user


def parse_users(raw: Json) -> UserPage:
    """A Followers response: the users in order, and the page cursors."""
    instructions, base = _instructions(_response_data(raw))
    users: list[User] = []
    cursors: dict[str, str] = {}
    for entry, _, path in _entries(instructions, base):
        if _read_cursor(entry, cursors):
            continue
        content = entry.get("content") or {}
        item = content.get("itemContent")
        if content.get("entryType") != "TimelineTimelineItem" or not isinstance(item, dict):
            continue
        if item.get("itemType") != "TimelineUser":
            continue
        result = _dig(item, "user_results.result")
        if not isinstance(result, dict) or result.get("__typename") == "UserUnavailable":
            continue
        users.append(parse_user_result(result, f"{path}.content.itemContent.user_results.result"))
    return UserPage(users, cursors.get("Top"), cursors.get("Bottom"))


# --- timelines ------------------------------------------------------------------------
def _instructions(data: Json) -> tuple[list[Any], str]:
    if isinstance(data.get("user"), dict):
        _user_result(data)
    for dotted in _TIMELINE_PATHS:
        found = _dig({"data": data}, dotted)
        if found is not None:
            if not isinstance(found, list):
                raise SchemaError("instructions is not a list", path=dotted)
            return found, dotted
    raise SchemaError("no timeline instructions", path=" | ".join(_TIMELINE_PATHS))


def _entries(instructions: list[Any], base: str) -> Iterator[tuple[Json, bool, str]]:
    """Every entry of every instruction, flagged when it is the pinned one."""
    for i, ins in enumerate(instructions):
        if not isinstance(ins, dict):
            raise SchemaError("instruction is not an object", path=f"{base}[{i}]")
        kind, path = ins.get("type"), f"{base}[{i}]"
        if kind == "TimelineAddEntries":
            entries = _need(ins, "entries", path)
            for j, entry in enumerate(entries if isinstance(entries, list) else [None]):
                if not isinstance(entry, dict):
                    raise SchemaError("entry is not an object", path=f"{path}.entries[{j}]")
                yield entry, False, f"{path}.entries[{j}]"
        elif kind in ("TimelinePinEntry", "TimelineReplaceEntry"):
            yield _need(ins, "entry", path), kind == "TimelinePinEntry", f"{path}.entry"
        elif kind == "TimelineAddToModule":
            module = {"entryType": "TimelineTimelineModule", "items": ins.get("moduleItems", [])}
            yield {"entryId": ins.get("moduleEntryId", ""), "content": module}, False, path


def _read_cursor(entry: Json, cursors: dict[str, str]) -> bool:
    """Store a Top/Bottom cursor entry (either cursor layout); say whether it was one."""
    content = entry.get("content") or {}
    if content.get("entryType") != "TimelineTimelineCursor":
        content = content.get("itemContent") or {}
        if content.get("itemType") != "TimelineTimelineCursor":
            return False
    kind = content.get("cursorType")
    entry_id = str(entry.get("entryId", ""))
    if kind is None:
        kind = "Top" if entry_id.startswith("cursor-top") else "Bottom"
    if kind in ("Top", "Bottom") and isinstance(content.get("value"), str):
        cursors[kind] = content["value"]
    return True


def _timeline_items(entry: Json, path: str) -> Iterator[tuple[Json, str]]:
    """The ``itemContent`` objects of an entry: one for an item, several for a module."""
    content = entry.get("content") or {}
    kind = content.get("entryType") or content.get("__typename")
    if str(entry.get("entryId", "")).startswith(_SKIPPED_MODULES):
        return
    if kind == "TimelineTimelineItem" and "itemContent" in content:
        yield content["itemContent"], f"{path}.content.itemContent"
    elif kind == "TimelineTimelineModule":
        for k, item in enumerate(content.get("items") or []):
            item_content = _dig(item, "item.itemContent")
            if isinstance(item_content, dict):
                yield item_content, f"{path}.content.items[{k}].item.itemContent"


def parse_tweets(raw: Json) -> TweetPage:
    """A UserTweets or SearchTimeline response: tweets in the order found, and cursors.

    The pinned tweet is included and flagged; promoted items, user suggestions and
    tombstones are left out. Sorting is the caller's business.
    """
    instructions, base = _instructions(_response_data(raw))
    tweets: list[Tweet] = []
    cursors: dict[str, str] = {}
    for entry, pinned, path in _entries(instructions, base):
        if _read_cursor(entry, cursors):
            continue
        for item, item_path in _timeline_items(entry, path):
            if item.get("itemType") != "TimelineTweet" or item.get("promotedMetadata"):
                continue
            result = _dig(item, "tweet_results.result")
            tweet = parse_tweet_result(result, f"{item_path}.tweet_results.result", pinned=pinned)
            if tweet is not None:
                tweets.append(tweet)
    return TweetPage(tweets, cursors.get("Top"), cursors.get("Bottom"))


# --- tweets ---------------------------------------------------------------------------
def _unwrap(result: Any, path: str) -> Json | None:
    """The ``Tweet`` inside visibility wrappers; None for tombstones and missing results."""
    if not isinstance(result, dict) or not result:
        return None
    kind = result.get("__typename", "Tweet")
    if kind == "TweetWithVisibilityResults":
        return _unwrap(_need(result, "tweet", path), f"{path}.tweet")
    if kind in _SKIPPED_TWEETS:
        return None
    if kind != "Tweet":
        raise SchemaError(f"unknown tweet type {kind!r}", path=f"{path}.__typename")
    return result


def _own_text(result: Json, legacy: Json, path: str) -> str:
    """A long tweet's note text (sent unescaped), else the HTML-escaped ``full_text``."""
    note = _dig(result, "note_tweet.note_tweet_results.result.text")
    if isinstance(note, str):
        return note
    return html.unescape(str(_need(legacy, "full_text", f"{path}.legacy")))


def _metrics(result: Json, legacy: Json) -> dict[str, int]:
    metrics: dict[str, int] = {}
    for name, key in _METRICS:
        value = _int(legacy.get(key))
        if value is not None:
            metrics[name] = value
    views = _int(_dig(result, "views.count"))
    if views is not None:
        metrics["views"] = views
    return metrics


def _retweeted(legacy: Json, path: str) -> Tweet | None:
    inner = _unwrap(_dig(legacy, "retweeted_status_result.result"), path)
    if inner is None:
        return None
    return _build(inner, f"{path}.legacy.retweeted_status_result.result", pinned=False)


def _quoted_id(result: Json, legacy: Json, path: str) -> str | None:
    quoted = _unwrap(_dig(result, "quoted_status_result.result"), path)
    found = legacy.get("quoted_status_id_str") or (quoted or {}).get("rest_id")
    return str(found) if found else None


def _build(result: Json, path: str, *, pinned: bool) -> Tweet:
    legacy = _need(result, "legacy", path)
    author = parse_user_result(
        _need(result, "core.user_results.result", path), f"{path}.core.user_results.result"
    )
    tweet_id = str(_pick(result, path, "rest_id", "legacy.id_str"))
    retweeted = _retweeted(legacy, path)
    text = _own_text(result, legacy, path)
    if retweeted is not None:
        # X truncates a retweet's own text ("RT @a: ...…"); rebuild it from the original.
        text = f"RT @{retweeted.author}: {retweeted.text}"
    reply_to = legacy.get("in_reply_to_status_id_str")
    return Tweet(
        id=tweet_id,
        text=text,
        author=author.username,
        author_name=author.name,
        author_id=author.id,
        timestamp=iso_timestamp(_need(legacy, "created_at", path), f"{path}.legacy.created_at"),
        url=f"https://x.com/{author.username}/status/{tweet_id}",
        is_retweet=retweeted is not None,
        is_reply=bool(reply_to),
        quoted_id=_quoted_id(result, legacy, path),
        lang=legacy.get("lang"),
        pinned=pinned,
        metrics=_metrics(result, legacy),
        retweeted_id=retweeted.id if retweeted else None,
        in_reply_to_id=str(reply_to) if reply_to else None,
    )


def parse_tweet_result(result: Any, path: str = "tweet", *, pinned: bool = False) -> Tweet | None:
    """One ``tweet_results.result``; None when X shows a tombstone instead of a tweet."""
    tweet = _unwrap(result, path)
    return None if tweet is None else _build(tweet, path, pinned=pinned)
