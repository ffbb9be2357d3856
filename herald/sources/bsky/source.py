"""The Bluesky push source: every ``bsky:*`` stream of a worker on one Jetstream connection.

``connect`` resolves the streams' handles and opens ``/subscribe`` with the collections
and DIDs they need, from the saved cursor; ``update`` changes the filter in place with
``options_update``; ``decode`` turns a batch of frames into changes. The follow map is
written before the follow's event is appended, and an entry is dropped only once the
saved cursor has passed the delete that used it (its ``lost`` event is in the log).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from herald.errors import ConfigError, SourceError
from herald.push.base import ConnectionPlan, Decoded, Frame, FrameError, PushStream
from herald.sources.base import Gap
from herald.sources.bsky import frames as reader
from herald.sources.bsky import payloads
from herald.sources.bsky.api import BskyApi, Profile
from herald.sources.bsky.connection import JetstreamConnection
from herald.sources.bsky.counts import COUNT_EVERY, FollowerCounts, Touched
from herald.sources.bsky.frames import Hit, Unfollow
from herald.sources.bsky.index import Index, Subscription
from herald.sources.bsky.targets import is_did
from herald.store.bsky import BskyStore, RedisBskyStore

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from herald.config import Settings
    from herald.store.keys import Keys

TYPES = ("bsky:post", "bsky:mention", "bsky:follower", "bsky:search")
KEY = "bsky"
WIRES = {
    "json": None,
    "zstd": "Jetstream's zstd frames need the zstandard package and Jetstream's dictionary, "
    "which this installation does not include",
    "v2": "Jetstream's v2 wire (/subscribe-v2) is not supported yet",
}
FIRST_START_WITHIN = 86_400.0
"""A fresh connection replays from its streams' creation when that is at most this old."""
RESOLVE_RETRY = 30.0
"""Seconds before a handle that could not be resolved is tried again."""


def check_wire(wire: str) -> None:
    """``HERALD_JETSTREAM_WIRE``: ``json`` works; ``zstd`` and ``v2`` are named, refused."""
    if wire not in WIRES:
        raise ConfigError(f"invalid HERALD_JETSTREAM_WIRE={wire!r} (allowed: json, zstd, v2)")
    reason = WIRES[wire]
    if reason is not None:
        raise ConfigError(f"HERALD_JETSTREAM_WIRE={wire}: {reason}; use json")


def first_start(streams: Sequence[PushStream]) -> int | None:
    """The ``time_us`` a fresh connection starts from: the oldest stream's creation."""
    starts = [s.created_at for s in streams if s.created_at > 0]
    if not starts or time.time() - min(starts) > FIRST_START_WITHIN:
        return None
    return int(min(starts) * 1_000_000)


class BskySource:
    stream_types: tuple[str, ...] = TYPES

    def __init__(
        self,
        jetstream_url: str,
        api: BskyApi,
        store: BskyStore,
        *,
        max_frame_bytes: int = 4 << 20,
        ping_interval: float | None = 20.0,
        count_every: float = COUNT_EVERY,
    ) -> None:
        self.jetstream_url = jetstream_url
        self.api = api
        self.store = store
        self._max_frame = max_frame_bytes
        self._ping = ping_interval
        self._index = Index()
        self._indexed: list[PushStream] | None = None
        self._given: Sequence[PushStream] | None = None
        """The sequence the index was last asked for (kept, so its identity stays unique)."""
        self._retry_at = 0.0
        self._report_unresolved = False
        self._gaps: list[Gap] = []
        self._forget: list[tuple[int, str, str]] = []
        self.connection: JetstreamConnection | None = None
        self.counts = FollowerCounts(api, store, every=count_every)

    @classmethod
    def from_settings(cls, settings: Settings, redis: Redis, keys: Keys) -> BskySource:
        check_wire(settings.jetstream_wire)
        store = RedisBskyStore(
            redis, keys, handle_ttl=settings.bsky_handle_ttl, follow_ttl=settings.bsky_follow_ttl
        )
        return cls(settings.jetstream_url, BskyApi(settings.bsky_api_url, store), store)

    def connection_key(self, stream: PushStream) -> str:
        return KEY

    def plan(self, key: str, streams: Sequence[PushStream]) -> ConnectionPlan:
        """A DID-filtered connection may be quiet for hours (pings keep it honest); the
        whole post stream never is."""
        quiet = self._indexed is not None and self._index.subscription().dids is not None
        return ConnectionPlan(
            idle_timeout=3600.0 if quiet else 120.0,
            ping_interval=self._ping,
            max_frame_bytes=self._max_frame,
        )

    async def index_for(self, streams: Sequence[PushStream]) -> Index:
        """The streams arranged for matching; handles resolved (retried every 30 s). The
        runtime hands the same list until the set changes: that is checked first, for free."""
        retry = bool(self._index.unresolved) and time.monotonic() >= self._retry_at
        if not retry and streams is self._given:
            return self._index
        wanted = list(streams)
        if wanted == self._indexed and not retry:
            self._given = streams
            return self._index
        dids: dict[str, str] = {}
        unresolved: dict[str, str] = {}
        for stream in wanted:
            if stream.type == "bsky:search":
                continue
            if is_did(stream.target):
                dids[stream.id] = stream.target
                continue
            try:
                dids[stream.id] = await self.api.resolve(stream.target)
            except SourceError as exc:
                unresolved[stream.id] = f"the handle {stream.target} does not resolve: {exc}"
        index = Index.build(wanted, dids)
        index.unresolved = unresolved
        self._index, self._indexed, self._given = index, wanted, streams
        if unresolved:
            self._retry_at = time.monotonic() + RESOLVE_RETRY
            self._report_unresolved = True
        return index

    async def subscription(self, streams: Sequence[PushStream]) -> Subscription:
        return (await self.index_for(streams)).subscription()

    async def connect(
        self, key: str, streams: Sequence[PushStream], cursor: str | None
    ) -> JetstreamConnection:
        """From the saved cursor; without one, from the oldest stream's start (within a day),
        so what happened between a stream's creation and the connection is not lost."""
        subscription = await self.subscription(streams)
        start = int(cursor) if cursor and cursor.isdigit() else None
        since = None if start is not None else first_start(streams)
        self.connection = await JetstreamConnection.open(
            self.jetstream_url,
            subscription,
            start,
            since=since,
            plan=self.subscription,
            on_gap=self._gaps.append,
            max_frame_bytes=self._max_frame,
            ping_interval=self._ping,
        )
        return self.connection

    async def decode(
        self, key: str, frames: Sequence[Frame], streams: Sequence[PushStream], cursor: str | None
    ) -> Decoded:
        saved = int(cursor) if cursor and cursor.isdigit() else 0
        await self._forget_committed(saved)
        await self.counts.commit(saved)
        index = await self.index_for(streams)
        out = Decoded()
        if self._report_unresolved:
            self._report_unresolved = False
            out.errors += [FrameError("unresolved", w, sid) for sid, w in index.unresolved.items()]
        out.gaps += [(None, gap) for gap in self._gaps]
        self._gaps.clear()
        batch = reader.read(frames, index, saved)
        out.errors += batch.errors
        if batch.follows:  # before the follows' events are appended
            await self.store.save_follows(batch.follows)
        unfollows = [item for item in batch.items if isinstance(item, Unfollow)]
        subjects = await self.store.follow_subjects([(u.did, u.rkey) for u in unfollows])
        subject_of = {(u.did, u.rkey): s for u, s in zip(unfollows, subjects, strict=True)}
        who = {item.did for item in batch.items if isinstance(item, Hit)}
        who |= {u.did for u in unfollows if subject_of[(u.did, u.rkey)] in index.followers}
        profiles = await self.api.profiles(who) if who else {}
        touched: dict[str, Touched] = {}
        for item in batch.items:
            if isinstance(item, Hit):
                out.changes.append(payloads.change(item, profiles.get(item.did)))
                if item.kind == "follow":
                    _touch(touched, index, item.stream, item.time_us)
            else:
                subject = subject_of[(item.did, item.rkey)]
                for stream in self._unfollow(out, index, item, subject, profiles):
                    _touch(touched, index, stream, item.time_us)
        if touched:  # after the follower events: a failed count call loses none of them
            out.changes += await self.counts.changes(list(touched.values()))
        if batch.identities:
            await self._identities(batch.identities, index, streams)
        if batch.cursor > saved:
            out.cursor = str(batch.cursor)
        if batch.newest:
            out.upstream_time = batch.newest / 1_000_000
        return out

    def _unfollow(
        self,
        out: Decoded,
        index: Index,
        item: Unfollow,
        subject: str | None,
        profiles: dict[str, Profile],
    ) -> list[PushStream]:
        """Appends the ``lost`` events; returns the streams that got one."""
        streams = index.followers.get(subject) if subject is not None else None
        if not streams:
            return []  # not a follow of a watched account (or one herald never saw made)
        lost: list[PushStream] = []
        for stream in streams:
            if item.time_us >= index.since_us[stream.id]:
                profile = profiles.get(item.did)
                out.changes.append(payloads.unfollower(stream.id, item.did, item.rkey, profile))
                lost.append(stream)
        self._forget.append((item.time_us, item.did, item.rkey))
        return lost

    async def _forget_committed(self, saved: int) -> None:
        """Drop the follow entries whose deletes the saved cursor has passed."""
        if not self._forget or self._forget[0][0] > saved:
            return
        done = [(did, rkey) for t, did, rkey in self._forget if t <= saved]
        self._forget = [entry for entry in self._forget if entry[0] > saved]
        await self.store.forget_follows(done)

    async def _identities(
        self, identities: list[tuple[str, str | None]], index: Index, streams: Sequence[PushStream]
    ) -> None:
        """A DID's handle may have changed: drop what is cached of it; a stream watching a
        handle that pointed at it resolves again (and the filter follows)."""
        watched = index.watched
        handles = {s.target for s in streams if not is_did(s.target)}
        moved = False
        for did, handle in identities:
            if did in watched or self.api.known(did):
                stale = await self.api.forget(did, handle)
                moved = moved or any(h in handles for h in stale)
        if not moved:
            return
        self._indexed = self._given = None
        subscription = await self.subscription(streams)
        if self.connection is not None:
            with contextlib.suppress(SourceError):  # a lost connection reopens with it anyway
                await self.connection.send_update(subscription)

    async def aclose(self) -> None:
        await self.api.aclose()


def _touch(touched: dict[str, Touched], index: Index, stream: PushStream, time_us: int) -> None:
    """Note a follower change of ``stream`` (the newest frame wins) for its count."""
    did = index.dids.get(stream.id)
    if did is not None:
        touched[stream.id] = Touched(stream, did, time_us)
