"""Mastodon's stream types as data (DESIGN §5): statuses, followers, mentions, hashtags and
public timelines of an instance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herald.engine import validation
from herald.errors import ValidationError
from herald.events import EventType
from herald.sources.mastodon import targets
from herald.sources.mastodon.parse import Status
from herald.sources.models import User
from herald.sources.types import StreamType, Target
from herald.sources.x.types import FOLLOWER_SCHEMA, MENTION_SCHEMA, TWEET_SCHEMA

# A post has the tweet's shape (DESIGN §5) without X's retweet, reply and quote flags.
POST_SCHEMA: dict[str, Any] = {
    **TWEET_SCHEMA,
    "properties": {
        k: v
        for k, v in TWEET_SCHEMA["properties"].items()
        if k not in ("isRetweet", "isReply", "quotedId")
    },
}
FOLLOWER_OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"followerSnapshotLimit": {"type": "integer", "minimum": 0, "maximum": 100_000}},
}
_INSTANCE_NOTE = " (https; http for a loopback host such as 127.0.0.1:8093)"

ACCOUNT = Target(
    description="a Mastodon account as user@instance" + _INSTANCE_NOTE,
    example="Gargron@mastodon.social",
    validate=targets.account,
    pattern=targets.ACCOUNT_PATTERN,
    label="account (user@instance)",
)
OWN_ACCOUNT = Target(
    description="the authToken's own account as user@instance, or just its instance"
    + _INSTANCE_NOTE,
    example="me@mastodon.social",
    validate=targets.account_or_instance,
    pattern=targets.OWN_ACCOUNT_PATTERN,
    label="your account (user@instance)",
)
HASHTAG = Target(
    description="a hashtag on an instance as tag@instance (a leading # is dropped)"
    + _INSTANCE_NOTE,
    example="python@mastodon.social",
    validate=targets.hashtag,
    pattern=targets.TAG_PATTERN,
    label="hashtag (tag@instance)",
)
INSTANCE = Target(
    description="a Mastodon instance, hostname[:port]" + _INSTANCE_NOTE,
    example="mastodon.social",
    validate=targets.instance,
    pattern=targets.INSTANCE_PATTERN,
    label="instance",
)


def public_options(value: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(value) - {"local"}
    if unknown:
        raise ValidationError(
            f"options: unknown option(s) {', '.join(sorted(unknown))} (known: local)"
        )
    if "local" in value and not isinstance(value["local"], bool):
        raise ValidationError("options.local: must be true or false")
    return {"local": value["local"]} if "local" in value else {}


def _post(item: Status) -> dict[str, Any]:
    return item.post_payload()


def _mention(item: Status) -> dict[str, Any]:
    return item.mention_payload()


def _follower(item: User) -> dict[str, Any]:
    return item.follower_payload()


def _posts(name: str, summary: str, target: Target, **extra: Any) -> StreamType:
    return StreamType(
        name=name,
        platform="mastodon",
        summary=summary,
        target=target,
        diff="posts",
        new_event=EventType.POST_NEW,
        payload_key="post",
        payload=_post,
        sentiment_field="text",
        payload_schema=POST_SCHEMA,
        **extra,
    )


STREAM_TYPES: tuple[StreamType, ...] = (
    _posts("mastodon:status", "new statuses (and boosts) of a Mastodon account", ACCOUNT),
    StreamType(
        name="mastodon:follower",
        platform="mastodon",
        summary="new and lost followers and the exact follower count of a Mastodon account",
        target=ACCOUNT,
        diff="followers",
        new_event=EventType.FOLLOWER_NEW,
        events=(EventType.FOLLOWER_NEW, EventType.FOLLOWER_LOST, EventType.FOLLOWER_COUNT),
        payload_key="follower",
        payload=_follower,
        payload_schema=FOLLOWER_SCHEMA,
        options=validation.options,
        options_schema=FOLLOWER_OPTIONS_SCHEMA,
        option_docs={
            "followerSnapshotLimit": "followers kept in the snapshot that 'lost' is computed "
            "from (0-100000, default 1000)"
        },
    ),
    StreamType(
        name="mastodon:mention",
        platform="mastodon",
        summary="new mentions of the account whose access token the stream carries",
        target=OWN_ACCOUNT,
        diff="posts",
        new_event=EventType.MENTION_NEW,
        payload_key="mention",
        payload=_mention,
        sentiment_field="text",
        payload_schema=MENTION_SCHEMA,
        needs_account=True,
    ),
    _posts(
        "mastodon:hashtag", "new public statuses with a hashtag, as an instance sees them", HASHTAG
    ),
    _posts(
        "mastodon:public",
        "new statuses of an instance's federated timeline (options.local: its own users only)",
        INSTANCE,
        options=public_options,
        option_docs={"local": "true: the instance's local timeline only (default false)"},
        options_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {"local": {"type": "boolean"}},
        },
    ),
)
