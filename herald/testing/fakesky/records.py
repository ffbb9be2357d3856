"""Jetstream v1 frames in the recorded shapes, and the ids they carry.

Every builder here produces the fields of the frames in the recording
(``bluesky-jetstream/golden_v1.jsonl``): ``did``, ``time_us``, ``kind`` and one of
``commit`` (``rev``, ``operation``, ``collection``, ``rkey``, and for creates ``record`` and
``cid``), ``identity`` (``did``, ``seq``, ``time``, and ``handle`` when the account has one)
or ``account`` (``active``, ``did``, ``seq``, ``time``). The stand-in's tests hold these
shapes against the recording.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

POST = "app.bsky.feed.post"
FOLLOW = "app.bsky.graph.follow"
MENTION = "app.bsky.richtext.facet#mention"
TAG = "app.bsky.richtext.facet#tag"
RECORDING = "golden_v1.jsonl"

_S32 = "234567abcdefghijklmnopqrstuvwxyz"


def tid(time_us: int, clock_id: int = 0) -> str:
    """An atproto TID: 53 bits of microseconds and a 10-bit clock id, base32-sortable, so
    rkeys made later sort after earlier ones (as a PDS makes them)."""
    value = ((time_us & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    out = []
    for _ in range(13):
        out.append(_S32[value & 31])
        value >>= 5
    return "".join(reversed(out))


def cid_of(content: object) -> str:
    """A CIDv1 string of the record's bytes (dag-cbor, sha-256 shape: ``bafyrei`` + 52)."""
    digest = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).digest()
    return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]


def did_for(handle: str) -> str:
    """A stable ``did:plc:`` for a synthetic account: 24 base32 characters of its handle."""
    digest = hashlib.sha256(f"fakesky:{handle}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def iso(time_us: int) -> str:
    """``2026-05-25T14:23:28.778Z``: the millisecond UTC form records and events carry."""
    moment = datetime.fromtimestamp(time_us / 1_000_000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def facets(text: str, mentions: Sequence[tuple[str, str]], tags: Iterable[str]) -> list[Any]:
    """Rich-text facets with UTF-8 byte ranges, as Bluesky clients write them: one
    ``#mention`` per ``(handle, did)`` whose ``@handle`` is in the text, one ``#tag`` per tag."""
    data = text.encode()
    found: list[Any] = []
    for handle, did in mentions:
        needle = f"@{handle}".encode()
        start = data.find(needle)
        if start >= 0:
            found.append(_facet(start, start + len(needle), {"$type": MENTION, "did": did}))
    for tag in tags:
        needle = f"#{tag}".encode()
        start = data.find(needle)
        if start >= 0:
            found.append(_facet(start, start + len(needle), {"$type": TAG, "tag": tag}))
    return found


def _facet(start: int, end: int, feature: dict[str, str]) -> dict[str, Any]:
    return {
        "$type": "app.bsky.richtext.facet",
        "features": [feature],
        "index": {"byteEnd": end, "byteStart": start},
    }


def post_record(
    text: str,
    created_at: str,
    *,
    langs: Sequence[str] = (),
    facet_list: Sequence[Any] = (),
    reply_to: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """An ``app.bsky.feed.post`` record (``reply_to``: the parent's (uri, cid))."""
    record: dict[str, Any] = {"$type": POST, "createdAt": created_at}
    if facet_list:
        record["facets"] = list(facet_list)
    if langs:
        record["langs"] = list(langs)
    if reply_to is not None:
        ref = {"cid": reply_to[1], "uri": reply_to[0]}
        record["reply"] = {"parent": ref, "root": ref}
    record["text"] = text
    return record


def follow_record(subject: str, created_at: str) -> dict[str, Any]:
    return {"$type": FOLLOW, "createdAt": created_at, "subject": subject}


def commit_create(
    did: str, time_us: int, collection: str, rkey: str, record: dict[str, Any]
) -> dict[str, Any]:
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": tid(time_us, 1),
            "operation": "create",
            "collection": collection,
            "rkey": rkey,
            "record": record,
            "cid": cid_of(record),
        },
    }


def commit_delete(did: str, time_us: int, collection: str, rkey: str) -> dict[str, Any]:
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": tid(time_us, 1),
            "operation": "delete",
            "collection": collection,
            "rkey": rkey,
        },
    }


def identity(did: str, time_us: int, seq: int, handle: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"did": did}
    if handle is not None:
        body["handle"] = handle
    body.update(seq=seq, time=iso(time_us))
    return {"did": did, "time_us": time_us, "kind": "identity", "identity": body}


def account(did: str, time_us: int, seq: int, active: bool) -> dict[str, Any]:
    body = {"active": active, "did": did, "seq": seq, "time": iso(time_us)}
    return {"did": did, "time_us": time_us, "kind": "account", "account": body}


def load_recording(folder: Path) -> list[dict[str, Any]]:
    """The recorded frames of ``folder`` (``golden_v1.jsonl``), sorted by ``time_us`` as
    Jetstream sequences them. A missing file is a FileNotFoundError naming it."""
    path = folder / RECORDING if folder.is_dir() else folder
    frames = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    for frame in frames:
        if not isinstance(frame, dict) or not isinstance(frame.get("time_us"), int):
            raise ValueError(f"{path}: a line is not a Jetstream frame")
    return sorted(frames, key=lambda f: int(f["time_us"]))
