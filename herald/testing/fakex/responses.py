"""The four GraphQL operations herald calls, answered from the world (and recordings).

Each method takes the request's ``variables`` and returns the JSON body. Paging follows X:
the requested ``count`` is honoured for synthetic users and for what was added to the
recorded user, a bottom cursor is always sent, and the page after the last one is empty.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from herald.testing.fakex import templates as t
from herald.testing.fakex.recordings import Recordings
from herald.testing.fakex.search import parse_query
from herald.testing.fakex.state import FakeTweet, FakeUser, World

Json = dict[str, Any]
MAX_COUNT = 1000
_SORT_BASE = 1_900_000_000_000_000_000


class BadVariables(ValueError):
    """A required GraphQL variable is missing or malformed."""


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"fakex:{offset}".encode()).decode()


def decode_cursor(cursor: Any) -> int | None:
    """The offset in one of our cursors; None for no cursor or a cursor we did not make."""
    if not isinstance(cursor, str) or not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, _, offset = text.partition(":")
    return int(offset) if kind == "fakex" and offset.isdigit() else None


def _required(variables: Json, name: str) -> str:
    value = variables.get(name)
    if not isinstance(value, str) or not value:
        raise BadVariables(f'Variable "${name}" of required type "String!" was not provided.')
    return value


def _count(variables: Json) -> int:
    count = variables.get("count", 20)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise BadVariables('Variable "$count" must be a positive Int.')
    return min(count, MAX_COUNT)


def _window(total: int, variables: Json) -> tuple[int, int]:
    start = min(decode_cursor(variables.get("cursor")) or 0, total)
    return start, min(total, start + _count(variables))


def _cursors(end: int) -> list[Json]:
    top_sort, bottom_sort = str(_SORT_BASE + MAX_COUNT * 1000), str(_SORT_BASE - end)
    return [
        t.cursor_entry("Top", encode_cursor(0), top_sort),
        t.cursor_entry("Bottom", encode_cursor(end), bottom_sort),
    ]


class Responder:
    def __init__(self, world: World, recordings: Recordings | None = None) -> None:
        self.world = world
        self.recordings = recordings

    # --- users -------------------------------------------------------------------------
    def counts(self, user: FakeUser) -> t.Counts:
        followers, tweets = len(user.follower_ids), len(self.world.tweets_by(user.id))
        if user.recorded and self.recordings is not None:
            base = self.recordings.user
            followers += (base.followers_count or 0) - len(user.removed_recorded)
            tweets += base.tweets_count or 0
        return t.Counts(followers=followers, following=user.following, tweets=tweets)

    def user_result(self, user: FakeUser) -> Json:
        counts = self.counts(user)
        if user.recorded and self.recordings is not None:
            return self.recordings.user_result(counts.followers, counts.tweets)
        return t.user_result(user, counts)

    def tweet_result(self, tweet: FakeTweet) -> Json:
        author = self.world.users[tweet.author_id]
        mentioned = [u for name in tweet.mentions() if (u := self.world.find(name))]
        counts = self.world.metrics.get(tweet.id)
        return t.tweet_result(tweet, self.user_result(author), mentioned, counts)

    def _user_by_id(self, variables: Json) -> FakeUser | None:
        return self.world.users.get(_required(variables, "userId"))

    # --- operations --------------------------------------------------------------------
    def user_by_screen_name(self, variables: Json) -> Json:
        user = self.world.find(_required(variables, "screen_name"))
        return t.user_by_screen_name(self.user_result(user) if user else None)

    def user_tweets(self, variables: Json) -> Json:
        user = self._user_by_id(variables)
        if user is None:
            return {"data": {"user": {}}}
        tweets = self.world.tweets_by(user.id)
        if user.recorded:
            doc = self._recorded("UserTweets", variables, [self._entry(x) for x in tweets], set())
            if doc is not None:
                return doc
        # As on X, the pinned tweet comes first, in its own instruction, and not again below.
        pinned = next((x for x in tweets if x.id == user.pinned_id), None)
        tweets = [x for x in tweets if x is not pinned]
        start, end = _window(len(tweets), variables)
        entries = [self._entry(x) for x in tweets[start:end]]
        pin = t.pin_entry(self.tweet_result(pinned)) if pinned and start == 0 else None
        return t.user_tweets(entries, pin, _cursors(end))

    def followers(self, variables: Json) -> Json:
        user = self._user_by_id(variables)
        if user is None:
            return {"data": {"user": {}}}
        followers = self.world.followers(user)
        entries = [
            t.user_entry(self.user_result(f), str(_SORT_BASE - i)) for i, f in enumerate(followers)
        ]
        if user.recorded:
            drop = {f"user-{i}" for i in user.removed_recorded}
            doc = self._recorded("Followers", variables, entries, drop)
            if doc is not None:
                return doc
        start, end = _window(len(entries), variables)
        return t.followers(entries[start:end], _cursors(end))

    def search(self, variables: Json) -> Json:
        raw_query = _required(variables, "rawQuery")
        tweets = self.world.search(raw_query)
        if self._recorded_target(raw_query):
            entries = [self._entry(x) for x in tweets]
            doc = self._recorded("SearchTimeline", variables, entries, set())
            if doc is not None:
                return doc
        start, end = _window(len(tweets), variables)
        entries = [self._entry(x) for x in tweets[start:end]]
        return t.search(entries, _cursors(end), first_page=start == 0)

    # --- helpers -----------------------------------------------------------------------
    def _entry(self, tweet: FakeTweet) -> Json:
        return t.tweet_entry(self.tweet_result(tweet))

    def _recorded_target(self, raw_query: str) -> bool:
        if self.recordings is None:
            return False
        query = parse_query(raw_query)
        if self.recordings.user.username.lower() in query.mentions:
            return True  # the recorded user's mentions
        return bool({term.text for term in query.required} & self.recordings.search_words)

    def _recorded(
        self, operation: str, variables: Json, new: list[Json], drop: set[str]
    ) -> Json | None:
        """The recording with what was added in front. Added entries that do not fit one
        page (``count``) are paged with our cursors first; the page holding the last of them
        holds the recording too (X ignores ``count`` at times), and the recording's own
        cursor leads past its end. None without a recording."""
        if self.recordings is None or operation not in self.recordings.raw:
            return None
        cursor = variables.get("cursor")
        offset = decode_cursor(cursor)
        if cursor and offset is None:
            return self._past_the_end(operation)
        start, count = offset or 0, _count(variables)
        if len(new) - start <= count:
            return self.recordings.merged(operation, new[start:], drop, first_page=start == 0)
        entries, cursors = new[start : start + count], _cursors(start + count)
        if operation == "SearchTimeline":
            return t.search(entries, cursors, first_page=start == 0)
        if operation == "Followers":
            return t.followers(entries, cursors)
        pin = self.recordings.pin_entry(operation) if start == 0 else None
        return t.user_tweets(entries, pin, cursors)

    @staticmethod
    def _past_the_end(operation: str) -> Json:
        if operation == "SearchTimeline":
            return t.search([], _cursors(0), first_page=False)
        if operation == "Followers":
            return t.followers([], _cursors(0))
        return t.user_tweets([], None, _cursors(0))
