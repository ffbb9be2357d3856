"""An in-memory source: the engine's tests and benchmarks drive it directly.

It behaves like a real platform: posts get increasing numeric ids, follower lists have an
exact count, and failures are raised as the same SourceError types a real adapter raises.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from herald.sources.base import FetchResult, FollowerSnapshot, PollContext
from herald.sources.catalog import stream_types
from herald.sources.models import Tweet, User
from herald.sources.x.dms import DirectMessage


@dataclass
class _Account:
    posts: list[Tweet] = field(default_factory=list)
    mentions: list[Tweet] = field(default_factory=list)
    followers: dict[str, User] = field(default_factory=dict)
    dms: list[DirectMessage] = field(default_factory=list)


class MemorySource:
    """Serves X's types by default: a follower snapshot for every type whose entry diffs
    ``followers``, posts for the others (an account's mentions for ``mention_types``; for
    ``search_types``, every post holding each word of the target; for ``dm_types``, the
    messages sent to the target's inbox with :meth:`send_dm`)."""

    stream_types: tuple[str, ...] = ("tweet", "mention", "follower", "x:search", "x:dm")
    mention_types: frozenset[str] = frozenset({"mention"})
    search_types: frozenset[str] = frozenset({"x:search"})
    dm_types: frozenset[str] = frozenset({"x:dm"})

    def __init__(self, *, page_size: int = 20, delay: float = 0.0) -> None:
        self._accounts: defaultdict[str, _Account] = defaultdict(_Account)
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._faults: list[Exception] = []
        self._all: list[Tweet] = []  # newest first, every account's
        self.page_size = page_size
        self.delay = delay
        self.fetches = 0

    def _acct(self, username: str) -> _Account:
        return self._accounts[username.lower()]

    def post(self, username: str, text: str = "hello", *, pinned: bool = False) -> Tweet:
        tid = str(next(self._ids))
        tweet = Tweet(
            id=tid,
            text=text,
            author=username,
            author_name=username.title(),
            timestamp="2026-01-01T00:00:00Z",
            url=f"https://x.com/{username}/status/{tid}",
            pinned=pinned,
        )
        self._acct(username).posts.insert(0, tweet)
        self._all.insert(0, tweet)
        for word in text.split():
            if word.startswith("@") and len(word) > 1:
                self._acct(word[1:]).mentions.insert(0, tweet)
        return tweet

    def send_dm(self, inbox: str, sender: str, text: str = "hi") -> DirectMessage:
        """A direct message from ``sender`` in the inbox an ``x:dm`` stream of ``inbox``
        reads (``me``, or an account's label)."""
        mid = str(next(self._ids))
        message = DirectMessage(
            id=mid,
            text=text,
            sender_id=f"id-{sender}",
            sender=sender,
            conversation_id=f"{sender}-{inbox}",
            timestamp="2026-01-01T00:00:00Z",
        )
        self._acct(inbox).dms.insert(0, message)
        return message

    def follow(self, username: str, follower: str) -> User:
        user = User(id=str(next(self._ids)), username=follower, name=follower.title())
        acct = self._acct(username)
        acct.followers = {user.id: user, **acct.followers}
        return user

    def unfollow(self, username: str, follower: str) -> None:
        acct = self._acct(username)
        acct.followers = {k: u for k, u in acct.followers.items() if u.username != follower}

    def fail_next(self, error: Exception, times: int = 1) -> None:
        """The next ``times`` fetches raise ``error``: a SourceError, or any exception, as a
        buggy adapter would."""
        self._faults.extend([error] * times)

    async def fetch(self, ctx: PollContext) -> FetchResult:
        self.fetches += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._faults:
            raise self._faults.pop(0)
        if ctx.type in self.search_types:
            words = ctx.username.lower().split()
            found = [t for t in self._all if all(w in t.text.lower() for w in words)]
            return FetchResult(items=found[: self.page_size])
        acct = self._acct(ctx.username)
        if stream_types().get(ctx.type).diff == "followers":
            limit = int(ctx.options.get("followerSnapshotLimit", 1000))
            users = list(acct.followers.values())
            return FetchResult(
                followers=FollowerSnapshot(
                    count=len(users), followers=users[:limit], complete=len(users) <= limit
                )
            )
        if ctx.type in self.dm_types:
            return FetchResult(items=acct.dms[: self.page_size])
        items = acct.mentions if ctx.type in self.mention_types else acct.posts
        return FetchResult(items=items[: self.page_size])

    async def aclose(self) -> None:
        return None
