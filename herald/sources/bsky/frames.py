"""Jetstream v1 frames -> what they mean for the connection's streams (the pure pass).

A frame is JSON: ``did``, ``time_us``, ``kind`` (``commit``, ``identity``, ``account``) and
the body of its kind (see the recording ``bluesky-jetstream/golden_v1.jsonl``). This pass
reads each frame once, drops what the saved cursor already covers (Jetstream replays
inclusively), and notes every hit: a post or a post's delete by a watched DID, a mention
of one, a search match, a follow of one, and every follow delete (whose subject only the
follow map knows). Payloads are made later, once the authors' profiles are known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from herald.push.base import Frame, FrameError, PushStream
from herald.sources.bsky.index import FOLLOW, POST, Index

MENTION = "app.bsky.richtext.facet#mention"
HitKind = Literal["post", "deleted", "mention", "search", "follow"]


@dataclass(frozen=True, slots=True)
class Hit:
    kind: HitKind
    stream: PushStream
    did: str
    """The repo the record is in: the author, or the follower."""
    rkey: str
    time_us: int
    record: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Unfollow:
    """A follow delete: which stream it concerns is known once the map names its subject."""

    did: str
    rkey: str
    time_us: int


@dataclass(slots=True)
class Pass:
    """What one batch holds, in frame order."""

    items: list[Hit | Unfollow] = field(default_factory=list)
    follows: list[tuple[str, str, str]] = field(default_factory=list)
    """``(did, rkey, subject)`` of follows of watched DIDs, for the follow map."""
    identities: list[tuple[str, str | None]] = field(default_factory=list)
    errors: list[FrameError] = field(default_factory=list)
    cursor: int = 0
    newest: int = 0


def _bad(kind: str, message: str) -> FrameError:
    return FrameError(kind, message[:300])


def read(frames: Sequence[Frame], index: Index, cursor: int) -> Pass:
    """One pass over ``frames``; ``cursor``: the saved ``time_us`` (0: none)."""
    out = Pass(cursor=cursor)
    for frame in frames:
        try:
            obj = orjson.loads(frame.data)
        except orjson.JSONDecodeError:
            out.errors.append(_bad("bad_frame", f"a Jetstream frame is not JSON: {frame.data!r}"))
            continue
        time_us = obj.get("time_us") if isinstance(obj, dict) else None
        did = obj.get("did") if isinstance(obj, dict) else None
        if not isinstance(time_us, int) or not isinstance(did, str):
            out.errors.append(_bad("bad_frame", "a Jetstream frame without time_us and did"))
            continue
        out.newest = max(out.newest, time_us)
        if time_us <= cursor:
            continue  # replayed: the saved cursor covers it
        out.cursor = max(out.cursor, time_us)
        kind = obj.get("kind")
        if kind == "commit":
            commit = obj.get("commit")
            if not isinstance(commit, dict):
                out.errors.append(_bad("bad_frame", f"a commit frame without its commit ({did})"))
                continue
            _commit(out, index, did, time_us, commit)
        elif kind == "identity":
            body = obj.get("identity")
            handle = body.get("handle") if isinstance(body, dict) else None
            out.identities.append((did, handle if isinstance(handle, str) else None))
    return out


def _commit(out: Pass, index: Index, did: str, time_us: int, commit: dict[str, Any]) -> None:
    collection = commit.get("collection")
    if collection != POST and collection != FOLLOW:
        return
    op, rkey = commit.get("operation"), commit.get("rkey")
    if not isinstance(rkey, str) or not rkey:
        out.errors.append(_bad("bad_frame", f"a {collection} commit without an rkey ({did})"))
        return
    if op == "delete":
        _delete(out, index, collection, did, rkey, time_us)
        return
    if op != "create":
        return
    record = commit.get("record")
    if not isinstance(record, dict):
        out.errors.append(_bad("bad_frame", f"a {collection} create without its record ({did})"))
    elif collection == POST:
        _post(out, index, (did, rkey, time_us), record)
    else:
        _follow(out, index, (did, rkey, time_us), record)


def _delete(out: Pass, index: Index, collection: str, did: str, rkey: str, time_us: int) -> None:
    if collection == POST:
        for stream in index.posts.get(did, ()):
            if time_us >= index.since_us[stream.id]:
                out.items.append(Hit("deleted", stream, did, rkey, time_us))
    elif index.followers:
        out.items.append(Unfollow(did, rkey, time_us))


Where = tuple[str, str, int]
"""``(did, rkey, time_us)`` of a record."""


def _follow(out: Pass, index: Index, where: Where, record: dict[str, Any]) -> None:
    did, rkey, time_us = where
    subject = record.get("subject")
    streams = index.followers.get(subject) if isinstance(subject, str) else None
    if not streams or not isinstance(subject, str) or subject == did:
        return
    out.follows.append((did, rkey, subject))
    for stream in streams:
        if time_us >= index.since_us[stream.id]:
            out.items.append(Hit("follow", stream, did, rkey, time_us, record))


def _post(out: Pass, index: Index, where: Where, record: dict[str, Any]) -> None:
    did, rkey, time_us = where
    for stream in index.posts.get(did, ()):
        if time_us >= index.since_us[stream.id]:
            out.items.append(Hit("post", stream, did, rkey, time_us, record))
    if index.mentions:
        for mentioned in _mentioned(record):
            if mentioned == did:
                continue  # a self-mention notifies no one
            for stream in index.mentions.get(mentioned, ()):
                if time_us >= index.since_us[stream.id]:
                    out.items.append(Hit("mention", stream, did, rkey, time_us, record))
    if index.searches:
        text = record.get("text")
        if isinstance(text, str) and text:
            lowered = text.lower()
            for stream, matcher in index.searches:
                if time_us >= index.since_us[stream.id] and matcher(text, lowered):
                    out.items.append(Hit("search", stream, did, rkey, time_us, record))


def _mentioned(record: dict[str, Any]) -> list[str]:
    """The DIDs a post's mention facets name, once each, in order."""
    facets = record.get("facets")
    if not isinstance(facets, list):
        return []
    found: dict[str, None] = {}
    for facet in facets:
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else ():
            if isinstance(feature, dict) and feature.get("$type") == MENTION:
                mentioned = feature.get("did")
                if isinstance(mentioned, str):
                    found[mentioned] = None
    return list(found)
