"""Bluesky's stream types as data (DESIGN §5): posts, mentions and followers of an
account, and a keyword search over every new post, all pushed through Jetstream."""

from __future__ import annotations

from typing import Any

from herald.events import EventType
from herald.sources.bsky import search, targets
from herald.sources.types import StreamType, Target
from herald.sources.x.types import FOLLOWER_SCHEMA, MENTION_SCHEMA, TWEET_SCHEMA

_EXTRA = {"authorId": {"type": "string"}, "isReply": {"type": "boolean"}}
POST_SCHEMA: dict[str, Any] = {
    **TWEET_SCHEMA,
    "properties": {
        **{
            k: v
            for k, v in TWEET_SCHEMA["properties"].items()
            if k not in ("isRetweet", "quotedId", "isReply")
        },
        **_EXTRA,
    },
}
BSKY_MENTION_SCHEMA: dict[str, Any] = {
    **MENTION_SCHEMA,
    "properties": {**MENTION_SCHEMA["properties"], "authorId": _EXTRA["authorId"]},
}

ACCOUNT = Target(
    description="a Bluesky account: its DID (did:plc:…, did:web:…) or its handle "
    "(a leading @ is dropped)",
    example="bsky.app",
    validate=targets.actor,
    pattern=targets.ACTOR_PATTERN,
    label="account (DID or handle)",
)
QUERY = Target(
    description="the search, as its name and (without options.keywords) its one keyword: "
    f"one line of printable text, 1-{targets.MAX_QUERY} characters",
    example="#python",
    validate=targets.query,
    pattern=targets.QUERY_PATTERN,
    label="search",
)


def _item(value: dict[str, Any]) -> dict[str, Any]:
    """Push changes carry their payloads ready-made; this is what a catalog entry needs."""
    return value


def _type(name: str, summary: str, target: Target, **extra: Any) -> StreamType:
    return StreamType(
        name=name,
        platform="bsky",
        summary=summary,
        target=target,
        payload=_item,
        paged=False,
        mode="push",
        **extra,
    )


STREAM_TYPES: tuple[StreamType, ...] = (
    _type(
        "bsky:post",
        "new posts (and their deletions) of a Bluesky account, live through Jetstream",
        ACCOUNT,
        diff="posts",
        new_event=EventType.POST_NEW,
        events=(EventType.POST_NEW, EventType.POST_DELETED),
        payload_key="post",
        payload_schema=POST_SCHEMA,
        sentiment_field="text",
    ),
    _type(
        "bsky:mention",
        "posts that mention a Bluesky account (mention facets naming its DID)",
        ACCOUNT,
        diff="posts",
        new_event=EventType.MENTION_NEW,
        payload_key="mention",
        payload_schema=BSKY_MENTION_SCHEMA,
        sentiment_field="text",
    ),
    _type(
        "bsky:follower",
        "new and lost followers of a Bluesky account (follow records naming its DID)",
        ACCOUNT,
        diff="followers",
        new_event=EventType.FOLLOWER_NEW,
        events=(EventType.FOLLOWER_NEW, EventType.FOLLOWER_LOST, EventType.FOLLOWER_COUNT),
        payload_key="follower",
        payload_schema=FOLLOWER_SCHEMA,
    ),
    _type(
        "bsky:search",
        "new Bluesky posts matching keywords or hashtags (options.keywords), from every post",
        QUERY,
        diff="posts",
        new_event=EventType.POST_NEW,
        payload_key="post",
        payload_schema=POST_SCHEMA,
        sentiment_field="text",
        options=search.options,
        option_docs=search.OPTION_DOCS,
        options_schema=search.OPTIONS_SCHEMA,
    ),
)
