"""One running Jetstream stand-in: its accounts, the kept frame window, the connected
subscribers, queued faults and request counts."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from starlette.requests import HTTPConnection

from herald.testing.fakesky import records
from herald.testing.fakesky.window import Entry, Window
from herald.testing.fakesky.world import Account, World

SEEDED = ("alice.test", "bob.test", "carol.test")
"""Accounts every stand-in starts with (after ``reset`` too)."""


@dataclass(slots=True)
class Filter:
    """A subscriber's ``wantedCollections`` / ``wantedDids`` (None: everything)."""

    collections: frozenset[str] | None = None
    prefixes: tuple[str, ...] = ()
    dids: frozenset[str] | None = None

    def wants(self, entry: Entry) -> bool:
        """Jetstream's rule: DIDs filter every kind; collections only commits."""
        if self.dids is not None and entry.did not in self.dids:
            return False
        if entry.collection is None or (self.collections is None and not self.prefixes):
            return True
        if self.collections is not None and entry.collection in self.collections:
            return True
        return any(entry.collection.startswith(p) for p in self.prefixes)

    def describe(self) -> dict[str, Any]:
        wanted = sorted(self.collections or ()) + [f"{p}*" for p in self.prefixes]
        return {
            "wantedCollections": wanted,
            "wantedDids": sorted(self.dids) if self.dids is not None else [],
        }


@dataclass(slots=True)
class Subscriber:
    id: int
    filter: Filter
    cursor: int | None
    connected_at: float = field(default_factory=time.time)
    sent: int = 0
    updates: int = 0
    stall_until: float = 0.0
    garbage: list[str] = field(default_factory=list)
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.filter.describe(),
            "cursor": self.cursor,
            "sent": self.sent,
            "optionsUpdates": self.updates,
        }


@dataclass(slots=True)
class Refusal:
    status: int
    count: int
    method: str | None = None


class FakeSky:
    """Everything one stand-in knows; ``reset()`` starts over (recording reloaded)."""

    def __init__(self, fixtures_dir: Path | None = None, window_limit: int = 100_000) -> None:
        self.fixtures_dir = fixtures_dir
        self.window_limit = window_limit
        self.subscribers: dict[int, Subscriber] = {}
        self.reset()

    def reset(self) -> None:
        for sub in self.subscribers.values():
            sub.dropped.set()
        self.world = World()
        for handle in SEEDED:
            self.world.create(handle)
        self.window = Window(self.window_limit)
        self.recorded: list[dict[str, Any]] = []
        if self.fixtures_dir is not None:
            self.recorded = records.load_recording(self.fixtures_dir)
            for frame in self.recorded:
                self.window.append(frame)
        self.requests: Counter[str] = Counter()
        self.refusals: list[Refusal] = []
        self.stall_until = 0.0
        self.seq = 30_000_000_000
        self._next_sub = 0

    # --- subscribers ------------------------------------------------------------------
    def add_subscriber(self, flt: Filter, cursor: int | None) -> Subscriber:
        self._next_sub += 1
        sub = Subscriber(self._next_sub, flt, cursor, stall_until=self.stall_until)
        self.subscribers[sub.id] = sub
        return sub

    def remove_subscriber(self, sub: Subscriber) -> None:
        self.subscribers.pop(sub.id, None)

    def drop_all(self) -> int:
        subs = list(self.subscribers.values())
        for sub in subs:
            sub.dropped.set()
        return len(subs)

    def stall(self, seconds: float) -> None:
        self.stall_until = time.time() + seconds
        for sub in self.subscribers.values():
            sub.stall_until = self.stall_until

    def send_garbage(self, text: str, count: int) -> int:
        for sub in self.subscribers.values():
            sub.garbage.extend([text] * count)
            sub.wake.set()
        return len(self.subscribers)

    def take_refusal(self, method: str | None) -> int | None:
        """The status to answer instead of serving ``method`` (None: the subscribe
        handshake), when a refusal fault is pending for it."""
        for refusal in self.refusals:
            if refusal.method == method or (method is not None and refusal.method == "*"):
                refusal.count -= 1
                if refusal.count <= 0:
                    self.refusals.remove(refusal)
                return refusal.status
        return None

    # --- the network: every change is a frame in the window ---------------------------------
    def account(self, actor: str) -> Account:
        found = self.world.find(actor)
        if found is None:
            raise KeyError(actor)
        return found

    def emit(self, frame: dict[str, Any]) -> dict[str, Any]:
        self.window.append(frame)
        return frame

    def post(
        self,
        author: Account,
        text: str,
        *,
        langs: Sequence[str] = ("en",),
        mentions: Sequence[Account] = (),
        tags: Sequence[str] = (),
        reply_to: str | None = None,
    ) -> dict[str, Any]:
        """A post by ``author``; each mentioned account's ``@handle`` is put in the text
        (appended when missing) with a mention facet naming its DID."""
        for account in mentions:
            if f"@{account.handle}" not in text:
                text = f"{text} @{account.handle}"
        for tag in tags:
            if f"#{tag}" not in text:
                text = f"{text} #{tag}"
        time_us = self.window.next_time_us()
        rkey = records.tid(time_us)
        parent = self._parent(reply_to)
        record = records.post_record(
            text,
            records.iso(time_us),
            langs=langs,
            facet_list=records.facets(text, [(a.handle, a.did) for a in mentions], tags),
            reply_to=parent,
        )
        frame = records.commit_create(author.did, time_us, records.POST, rkey, record)
        author.posts[rkey] = (f"at://{author.did}/{records.POST}/{rkey}", frame["commit"]["cid"])
        return self.emit(frame)

    def _parent(self, uri: str | None) -> tuple[str, str] | None:
        if uri is None:
            return None
        for account in self.world.by_did.values():
            for known_uri, cid in account.posts.values():
                if known_uri == uri:
                    return uri, cid
        return uri, records.cid_of(uri)

    def delete_post(self, author: Account, rkey: str) -> dict[str, Any]:
        if author.posts.pop(rkey, None) is None:
            raise KeyError(rkey)
        frame = records.commit_delete(author.did, self.window.next_time_us(), records.POST, rkey)
        return self.emit(frame)

    def follow(self, follower: Account, subject: Account) -> dict[str, Any]:
        if subject.did in follower.follows:
            raise ValueError(f"{follower.handle} follows {subject.handle} already")
        time_us = self.window.next_time_us()
        rkey = records.tid(time_us)
        record = records.follow_record(subject.did, records.iso(time_us))
        frame = records.commit_create(follower.did, time_us, records.FOLLOW, rkey, record)
        follower.follows[subject.did] = rkey
        subject.followers[follower.did] = rkey
        return self.emit(frame)

    def unfollow(self, follower: Account, subject: Account) -> dict[str, Any]:
        """A follow delete: like Jetstream's, the frame names only the follower and rkey."""
        rkey = follower.follows.pop(subject.did, None)
        if rkey is None:
            raise KeyError(subject.handle)
        subject.followers.pop(follower.did, None)
        time_us = self.window.next_time_us()
        return self.emit(records.commit_delete(follower.did, time_us, records.FOLLOW, rkey))

    def set_handle(self, account: Account, handle: str) -> dict[str, Any]:
        self.world.rename(account, handle)
        self.seq += 1
        frame = records.identity(account.did, self.window.next_time_us(), self.seq, account.handle)
        return self.emit(frame)

    def set_active(self, account: Account, active: bool) -> dict[str, Any]:
        account.active = active
        self.seq += 1
        return self.emit(records.account(account.did, self.window.next_time_us(), self.seq, active))

    def inject(self, frame: dict[str, Any]) -> dict[str, Any]:
        """A frame as given (``time_us`` assigned when absent): odd shapes for tests."""
        frame = dict(frame)
        frame.setdefault("time_us", self.window.next_time_us())
        return self.emit(frame)

    def replay_recording(self, times: int) -> tuple[int, int]:
        """The recorded frames again, ``times`` times, with fresh ``time_us`` (and rkeys
        suffixed per round so every round's records are new): load for a decoder."""
        first = last = 0
        for round_no in range(times):
            for recorded in self.recorded:
                frame = dict(recorded, time_us=self.window.next_time_us())
                commit = frame.get("commit")
                if isinstance(commit, dict) and round_no:
                    frame["commit"] = dict(commit, rkey=f"{commit.get('rkey')}{round_no}")
                self.emit(frame)
                first = first or frame["time_us"]
                last = frame["time_us"]
        return first, last

    def counts(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in sorted(self.requests.items())},
            "connected": len(self.subscribers),
            "subscribers": [s.describe() for s in self.subscribers.values()],
            "frames": len(self.window),
        }


def fakesky_of(conn: HTTPConnection) -> FakeSky:
    return cast(FakeSky, conn.app.state.fakesky)
