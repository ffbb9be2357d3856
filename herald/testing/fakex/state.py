"""The stand-in's world: users, tweets and follower lists, held in memory.

Ids are snowflakes, as on X, so "newer" means "larger id" everywhere herald looks. The seeded
world is deterministic so tests can rely on its names, ids and counts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from herald.testing.fakex.search import parse_query

TWITTER_EPOCH_MS = 1288834974657
SEED_EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SESSION_USER = "fakex_session"
MENTION = re.compile(r"@(\w{1,15})\b")


def snowflake_time(object_id: str | int) -> datetime:
    """The creation time a snowflake id encodes."""
    ms = (int(object_id) >> 22) + TWITTER_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class Snowflakes:
    """Increasing snowflake-like ids from the clock, never below ``floor``."""

    def __init__(self, floor: int = 0) -> None:
        self.last = floor

    def at(self, moment: datetime) -> str:
        computed = (int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22
        self.last = max(computed, self.last + 1)
        return str(self.last)

    def now(self) -> str:
        return self.at(datetime.fromtimestamp(time.time(), tz=UTC))

    def raise_floor(self, ids: Iterable[str]) -> None:
        self.last = max([self.last, *(int(i) for i in ids)])


@dataclass
class FakeUser:
    id: str
    username: str
    name: str
    created_at: datetime
    description: str = ""
    follower_ids: list[str] = field(default_factory=list)  # oldest first, as followed
    following: int = 0
    pinned_id: str | None = None
    recorded: bool = False  # the profile, tweets and followers come from recordings
    removed_recorded: set[str] = field(default_factory=set)  # recorded followers taken away

    def payload(self, followers_count: int, tweets_count: int) -> dict[str, object]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "followers": followers_count,
            "following": self.following,
            "tweets": tweets_count,
        }


@dataclass(frozen=True)
class FakeTweet:
    id: str
    author_id: str
    text: str
    reply_to: str | None = None  # the tweet it answers (CreateTweet's reply)
    quoted_id: str | None = None  # the tweet it quotes (CreateTweet's attachment_url)

    @property
    def created_at(self) -> datetime:
        return snowflake_time(self.id)

    def mentions(self) -> set[str]:
        return {m.lower() for m in MENTION.findall(self.text)}


class World:
    """Users, tweets and follows; the HTTP layers only read and change it through here."""

    def __init__(self) -> None:
        self.ids = Snowflakes()
        self.users: dict[str, FakeUser] = {}
        self.by_name: dict[str, str] = {}
        self.tweets: list[FakeTweet] = []
        self.metrics: dict[str, dict[str, int]] = {}  # tweet id -> counts set by the control API
        self.sessions: dict[str, str] = {}  # auth_token -> user id (the writes' author)
        self.likes: dict[str, set[str]] = {}  # user id -> tweet ids it liked
        self.retweets: dict[tuple[str, str], str] = {}  # (user id, tweet id) -> retweet id

    # --- lookups -----------------------------------------------------------------------
    def find(self, username: str) -> FakeUser | None:
        user_id = self.by_name.get(username.lstrip("@").lower())
        return self.users.get(user_id) if user_id else None

    def tweets_by(self, user_id: str) -> list[FakeTweet]:
        """Newest first."""
        return [t for t in reversed(self.tweets) if t.author_id == user_id]

    def followers(self, user: FakeUser) -> list[FakeUser]:
        """Newest follower first, like X."""
        return [self.users[i] for i in reversed(user.follower_ids)]

    def search(self, raw_query: str) -> list[FakeTweet]:
        """Newest first: the tweets ``raw_query`` finds (the syntax is in ``search.py``)."""
        query = parse_query(raw_query)
        return [
            tweet
            for tweet in reversed(self.tweets)
            if query.matches(tweet.text, self.users[tweet.author_id].username)
        ]

    # --- changes -----------------------------------------------------------------------
    def create_user(
        self, username: str, name: str | None = None, *, created_at: datetime | None = None
    ) -> FakeUser:
        moment = created_at or datetime.now(tz=UTC)
        user = FakeUser(self.ids.at(moment), username, name or username.title(), moment)
        self.users[user.id] = user
        self.by_name[username.lower()] = user.id
        return user

    def ensure_user(self, username: str) -> FakeUser:
        return self.find(username) or self.create_user(username)

    def post(
        self,
        user: FakeUser,
        text: str,
        *,
        at: datetime | None = None,
        reply_to: str | None = None,
        quoted_id: str | None = None,
    ) -> FakeTweet:
        tweet_id = self.ids.at(at) if at else self.ids.now()
        tweet = FakeTweet(tweet_id, user.id, text, reply_to, quoted_id)
        self.tweets.append(tweet)
        return tweet

    def find_tweet(self, tweet_id: str) -> FakeTweet | None:
        return next((t for t in self.tweets if t.id == tweet_id), None)

    def delete(self, tweet: FakeTweet) -> None:
        """Gone from timelines, searches and the pin, as a deleted tweet is on X."""
        self.tweets.remove(tweet)
        self.metrics.pop(tweet.id, None)
        author = self.users[tweet.author_id]
        if author.pinned_id == tweet.id:
            author.pinned_id = None

    def session_user(self, auth_token: str) -> FakeUser:
        """The user a session writes as: the one registered for its token, else
        ``fakex_session`` (the name ``account/settings.json`` reports)."""
        user_id = self.sessions.get(auth_token)
        if user_id is not None and user_id in self.users:
            return self.users[user_id]
        return self.ensure_user(SESSION_USER)

    def follow(self, user: FakeUser, follower: FakeUser) -> bool:
        """Add a follower; False if they already followed."""
        if follower.id in user.follower_ids:
            return False
        user.follower_ids.append(follower.id)
        follower.following += 1
        return True

    def unfollow(self, user: FakeUser, follower: FakeUser) -> bool:
        if follower.id not in user.follower_ids:
            return False
        user.follower_ids.remove(follower.id)
        follower.following -= 1
        return True


SEED_USERS = (
    ("alice", "Alice Example", "Writes about distributed systems & coffee."),
    ("bob", "Bob Builder", "Builds things."),
    ("carol", "Carol Danvers", ""),
)
SEED_TWEETS = (
    ("alice", "Hello from alice, this is my pinned tweet."),
    ("bob", "Just setting up my fakex."),
    ("alice", "Reading about snowflake ids <3 & Redis streams"),
    ("carol", "Has anyone seen @alice's new post?"),
    ("bob", "@alice welcome! cc @carol"),
    ("alice", "Third tweet: timelines are newest first."),
)
SEED_FOLLOWS = (("alice", "bob"), ("alice", "carol"), ("bob", "alice"))


def seeded_world() -> World:
    """alice (3 tweets, one pinned, 2 followers), bob (2 tweets, 1 follower), carol (1 tweet)."""
    world = World()
    minute = 60.0
    for i, (username, name, bio) in enumerate(SEED_USERS):
        at = datetime.fromtimestamp(SEED_EPOCH.timestamp() - 86400 * (30 - i), tz=UTC)
        user = world.create_user(username, name, created_at=at)
        user.description = bio
    for i, (username, text) in enumerate(SEED_TWEETS):
        at = datetime.fromtimestamp(SEED_EPOCH.timestamp() + i * 7 * minute, tz=UTC)
        world.post(world.ensure_user(username), text, at=at)
    for username, follower in SEED_FOLLOWS:
        world.follow(world.ensure_user(username), world.ensure_user(follower))
    alice = world.ensure_user("alice")
    alice.pinned_id = world.tweets_by(alice.id)[-1].id
    return world
