"""Hits -> events: the wire payloads of Bluesky posts, mentions and follows.

A post has the tweet's shape (``id``, ``text``, ``author``, ``authorName``, ``timestamp``,
``url``, ``lang``) plus ``authorId`` (the DID) and ``isReply``. ``id`` is the post's
``at://`` URI; ``author`` is the handle when the profile API answered, else the DID. Object
ids (and so eventIds) are ``did/rkey``: the same record gives the same event on a replay.
"""

from __future__ import annotations

from typing import Any

from herald.events import EventType
from herald.push.base import PushChange
from herald.sources.bsky.api import Profile
from herald.sources.bsky.frames import Hit
from herald.sources.bsky.index import POST


def uri(did: str, rkey: str) -> str:
    return f"at://{did}/{POST}/{rkey}"


def web_url(did: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{did}/post/{rkey}"


def _text(record: dict[str, Any] | None, name: str) -> str:
    value = (record or {}).get(name)
    return value if isinstance(value, str) else ""


def post(hit: Hit, profile: Profile | None) -> dict[str, Any]:
    record = hit.record or {}
    payload: dict[str, Any] = {
        "id": uri(hit.did, hit.rkey),
        "text": _text(record, "text"),
        "author": profile.handle if profile else hit.did,
        "authorName": profile.name if profile else "",
        "timestamp": _text(record, "createdAt"),
        "url": web_url(hit.did, hit.rkey),
        "authorId": hit.did,
        "isReply": isinstance(record.get("reply"), dict),
    }
    langs = record.get("langs")
    if isinstance(langs, list) and langs and isinstance(langs[0], str):
        payload["lang"] = langs[0]
    return payload


def mention(hit: Hit, profile: Profile | None) -> dict[str, Any]:
    full = post(hit, profile)
    out = {k: full[k] for k in ("id", "text", "author", "timestamp", "url", "authorId")}
    if "lang" in full:
        out["lang"] = full["lang"]
    return out


def change(hit: Hit, profile: Profile | None) -> PushChange:
    object_id = f"{hit.did}/{hit.rkey}"
    stream_id = hit.stream.id
    if hit.kind in ("post", "search"):
        return PushChange(stream_id, EventType.POST_NEW, object_id, {"post": post(hit, profile)})
    if hit.kind == "mention":
        body = {"mention": mention(hit, profile)}
        return PushChange(stream_id, EventType.MENTION_NEW, object_id, body)
    if hit.kind == "deleted":
        gone = {
            "id": uri(hit.did, hit.rkey),
            "author": profile.handle if profile else hit.did,
            "authorId": hit.did,
            "url": web_url(hit.did, hit.rkey),
        }
        return PushChange(stream_id, EventType.POST_DELETED, object_id, {"post": gone})
    body = {"follower": follower(hit, profile)}
    return PushChange(stream_id, EventType.FOLLOWER_NEW, object_id, body)


def follower(hit: Hit, profile: Profile | None) -> dict[str, Any]:
    return {
        "id": hit.did,
        "username": profile.handle if profile else hit.did,
        "name": profile.name if profile else "",
    }


def unfollower(stream_id: str, did: str, rkey: str, profile: Profile | None) -> PushChange:
    body = {"unfollower": {"id": did, "username": profile.handle if profile else did}}
    return PushChange(stream_id, EventType.FOLLOWER_LOST, f"{did}/{rkey}", body)
