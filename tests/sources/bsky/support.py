"""Building a Bluesky source for tests: its API answered by the stand-in (in process or
live), the in-memory store, and helpers to decode frames."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from herald.events import EventType
from herald.push.base import Decoded, Frame, PushStream
from herald.sources.bsky import BskySource
from herald.sources.bsky.api import BskyApi
from herald.sources.bsky.counts import COUNT_EVERY
from herald.store.bsky import BskyStore
from herald.store.memory import MemoryBskyStore
from herald.testing.fakesky import records


def source_for(
    app: FastAPI | None = None,
    *,
    api_url: str = "http://fakesky.test",
    jetstream_url: str = "ws://127.0.0.1:1/subscribe",
    store: BskyStore | None = None,
    count_every: float = COUNT_EVERY,
) -> BskySource:
    """A source whose XRPC calls reach ``app`` in process (or ``api_url`` over the wire)."""
    store = store if store is not None else MemoryBskyStore()
    transport = httpx.ASGITransport(app=app) if app is not None else None
    api = BskyApi(api_url, store, transport=transport)
    return BskySource(jetstream_url, api, store, count_every=count_every)


def stream(
    stream_id: str, stream_type: str, target: str, *, created_at: float = 0.0, **options: Any
) -> PushStream:
    return PushStream(stream_id, stream_type, target, options, created_at)


def frame(obj: dict[str, Any] | str | bytes) -> Frame:
    data = obj if isinstance(obj, str | bytes) else orjson.dumps(obj).decode()
    return Frame(data, time.time())


async def decode(
    source: BskySource,
    objs: Sequence[dict[str, Any] | str | bytes],
    streams: Sequence[PushStream],
    cursor: str | None = None,
) -> Decoded:
    return await source.decode("bsky", [frame(o) for o in objs], streams, cursor)


DID_A = records.did_for("alice.test")
DID_B = records.did_for("bob.test")
DID_C = records.did_for("carol.test")


def post(did: str, time_us: int, text: str, rkey: str | None = None, **kw: Any) -> dict[str, Any]:
    record = records.post_record(text, records.iso(time_us), langs=["en"], **kw)
    return records.commit_create(did, time_us, records.POST, rkey or records.tid(time_us), record)


def follow(did: str, time_us: int, subject: str, rkey: str | None = None) -> dict[str, Any]:
    record = records.follow_record(subject, records.iso(time_us))
    return records.commit_create(did, time_us, records.FOLLOW, rkey or records.tid(time_us), record)


def mention_facets(text: str, *handles: str) -> list[Any]:
    return records.facets(text, [(h, records.did_for(h)) for h in handles], ())


def expected_changes(frames: list[dict[str, Any]], did_a: str) -> set[tuple[str, str, str]]:
    """What streams ``p`` (posts), ``m`` (mentions), ``f`` (followers) of ``did_a`` and
    ``q`` (a search for "herald") should report, read straight off the frames."""
    out: set[tuple[str, str, str]] = set()
    follows: dict[tuple[str, str], str] = {}
    for frame in frames:
        commit = frame.get("commit")
        if not commit:
            continue
        did, rkey, op = frame["did"], commit["rkey"], commit["operation"]
        oid = f"{did}/{rkey}"
        record = commit.get("record", {})
        if commit["collection"] == records.POST:
            if op == "delete":
                if did == did_a:
                    out.add(("p", EventType.POST_DELETED.value, oid))
                continue
            if did == did_a:
                out.add(("p", EventType.POST_NEW.value, oid))
            named = {
                feat.get("did")
                for facet in record.get("facets", [])
                for feat in facet["features"]
                if feat["$type"] == records.MENTION
            }
            if did_a in named and did != did_a:
                out.add(("m", EventType.MENTION_NEW.value, oid))
            if "herald" in record["text"].lower():
                out.add(("q", EventType.POST_NEW.value, oid))
        elif op == "create":
            follows[(did, rkey)] = record["subject"]
            if record["subject"] == did_a:
                out.add(("f", EventType.FOLLOWER_NEW.value, oid))
        elif follows.get((did, rkey)) == did_a:
            out.add(("f", EventType.FOLLOWER_LOST.value, oid))
    return out
