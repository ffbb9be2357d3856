"""X's stream types as data (DESIGN §3 and §5): tweets, followers and mentions of a handle,
the tweets a search query finds, and the direct messages of the account's own inbox."""

from __future__ import annotations

import re
from typing import Any

from herald.engine import validation
from herald.errors import ValidationError
from herald.events import EventType
from herald.sentiment import SCHEMA as SENTIMENT_SCHEMA
from herald.sources.models import Tweet, User
from herald.sources.types import StreamType, Target
from herald.sources.x.dms import DirectMessage

HANDLE = Target(
    description="an X handle: 1-15 letters, digits or underscores; a leading @ is dropped",
    example="XDevelopers",
    validate=validation.username,
    pattern=validation.USERNAME_PATTERN,
    label="username",
)

MAX_QUERY = 500
"""Characters in a search query (X's own search box stops a little above this)."""
# Control characters, line and paragraph separators, lone surrogates: what cannot sit in
# one line of a search box. Format characters (the joiner inside emoji) are fine.
_BLANKS = r"[ \t\n\r]"
"""Dropped around a query (a pasted line's end), never kept inside it."""
_CONTROL = r"\u0000-\u001f\u007f-\u009f\u2028\u2029"
QUERY_PATTERN = (
    rf"^{_BLANKS}*(?:[^{_CONTROL} ]|[^{_CONTROL} ][^{_CONTROL}]{{0,{MAX_QUERY - 2}}}[^{_CONTROL} ])"
    rf"{_BLANKS}*$"
)
"""Exactly what :func:`search_query` accepts, for the OpenAPI document."""
_QUERY = re.compile(QUERY_PATTERN)
_CONTROL_CHAR = re.compile(f"[{_CONTROL}\ud800-\udfff]")  # JSON brings no lone surrogate


def search_query(value: object) -> str:
    """An X search query as X's search box takes it: one line of printable text, 1-500
    characters once the blanks around it are dropped. X's operators (``from:``, ``-word``,
    ``#tag``, ``"a phrase"``, ``OR``, ``lang:``) pass through untouched: X judges them."""
    rule = f"one line of printable text, 1-{MAX_QUERY} characters"
    if not isinstance(value, str):
        raise ValidationError(f"target: a search query must be a string ({rule})")
    query = value.strip(" \t\n\r")
    if not query:
        raise ValidationError(f"target: the search query is empty ({rule})")
    if _CONTROL_CHAR.search(query):
        raise ValidationError(
            f"target: the search query holds a line break or a control character ({rule})"
        )
    if len(query) > MAX_QUERY:
        raise ValidationError(f"target: the search query has {len(query)} characters ({rule})")
    if not _QUERY.match(value):  # what the OpenAPI document promises, checked the same way
        raise ValidationError(f"target: not a search query ({rule})")
    return query


QUERY = Target(
    description="an X search query, as typed in X's search box (words, #hashtags, @handles, "
    f'from:, -word, "phrases", OR): one line of printable text, 1-{MAX_QUERY} characters',
    example="#python",
    validate=search_query,
    pattern=QUERY_PATTERN,
    label="search query",
)

ME = "me"
_ACCOUNT_REF = r"[A-Za-z0-9_.@-]{1,64}"
INBOX_PATTERN = rf"^[ \t]*{_ACCOUNT_REF}[ \t]*$"
_INBOX = re.compile(INBOX_PATTERN)


def inbox(value: object) -> str:
    """Whose inbox an ``x:dm`` stream reads: ``me`` (the stream's authToken account, else
    HERALD_SESSION_COOKIE's), or the id or label of an account added with ``herald accounts
    add``. Never an account picked from the pool: a direct message belongs to one account."""
    rule = "`me`, or the id or label of a stored X account (1-64 letters, digits, _.@-)"
    if not isinstance(value, str) or not _INBOX.match(value):
        raise ValidationError(f"target: not an inbox ({rule})")
    ref = value.strip(" \t")
    return ME if ref.lower() == ME else ref


INBOX = Target(
    description="whose direct messages: `me` (the authToken's account, else "
    "HERALD_SESSION_COOKIE's), or the id or label of an account from `herald accounts`",
    example=ME,
    validate=inbox,
    pattern=INBOX_PATTERN,
    label="inbox (me or an account)",
)

_OPTION_DOCS = {
    "followerSnapshotLimit": "followers kept in the snapshot that 'lost' is computed from "
    "(0-100000, default 1000)",
}

_OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "followerSnapshotLimit": {"type": "integer", "minimum": 0, "maximum": 100_000},
    },
}

TWEET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "text", "author", "authorName", "timestamp", "url"],
    "properties": {
        "id": {"type": "string"},
        "text": {"type": "string"},
        "author": {"type": "string"},
        "authorName": {"type": "string"},
        "timestamp": {"type": "string"},
        "url": {"type": "string"},
        "isRetweet": {"type": "boolean"},
        "isReply": {"type": "boolean"},
        "quotedId": {"type": "string"},
        "lang": {"type": "string"},
        "metrics": {"type": "object", "additionalProperties": {"type": "integer"}},
        "sentiment": SENTIMENT_SCHEMA,
    },
}
MENTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "text", "author", "timestamp", "url"],
    "properties": {
        k: TWEET_SCHEMA["properties"][k]
        for k in ("id", "text", "author", "timestamp", "url", "lang", "sentiment")
    },
}
FOLLOWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "username"],
    "properties": {
        "id": {"type": "string"},
        "username": {"type": "string"},
        "name": {"type": "string"},
    },
}

DM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "text", "sender", "conversationId", "timestamp"],
    "properties": {
        "id": {"type": "string"},
        "text": {"type": "string"},
        "sender": {"type": "string"},
        "senderId": {"type": "string"},
        "senderName": {"type": "string"},
        "conversationId": {"type": "string"},
        "conversationType": {"type": "string"},
        "timestamp": {"type": "string"},
        "direction": {"type": "string", "enum": ["incoming", "outgoing"]},
        "sentiment": SENTIMENT_SCHEMA,
    },
}


def _dm(item: DirectMessage) -> dict[str, Any]:
    return item.dm_payload()


def _tweet(item: Tweet) -> dict[str, Any]:
    return item.tweet_payload()


def _mention(item: Tweet) -> dict[str, Any]:
    return item.mention_payload()


def _follower(item: User) -> dict[str, Any]:
    return item.follower_payload()


STREAM_TYPES: tuple[StreamType, ...] = (
    StreamType(
        name="tweet",
        aliases=("x:tweet",),
        platform="x",
        summary="new tweets of an X account",
        target=HANDLE,
        diff="posts",
        new_event=EventType.TWEET_NEW,
        events=(EventType.TWEET_NEW, EventType.TWEET_METRICS, EventType.TWEET_DELETED),
        payload_key="tweet",
        payload=_tweet,
        sentiment_field="text",
        payload_schema=TWEET_SCHEMA,
        options=validation.options,
        option_docs=_OPTION_DOCS,
        options_schema=_OPTIONS_SCHEMA,
    ),
    StreamType(
        name="follower",
        aliases=("x:follower",),
        platform="x",
        summary="new and lost followers and the exact follower count of an X account",
        target=HANDLE,
        diff="followers",
        new_event=EventType.FOLLOWER_NEW,
        events=(EventType.FOLLOWER_NEW, EventType.FOLLOWER_LOST, EventType.FOLLOWER_COUNT),
        payload_key="follower",
        payload=_follower,
        payload_schema=FOLLOWER_SCHEMA,
        options=validation.options,
        option_docs=_OPTION_DOCS,
        options_schema=_OPTIONS_SCHEMA,
    ),
    StreamType(
        name="mention",
        aliases=("x:mention",),
        platform="x",
        summary="new tweets that mention an X account",
        target=HANDLE,
        diff="posts",
        new_event=EventType.MENTION_NEW,
        payload_key="mention",
        payload=_mention,
        sentiment_field="text",
        payload_schema=MENTION_SCHEMA,
        options=validation.options,
        option_docs=_OPTION_DOCS,
        options_schema=_OPTIONS_SCHEMA,
    ),
    StreamType(
        name="x:search",
        platform="x",
        summary="new tweets an X search finds (the Latest tab)",
        target=QUERY,
        diff="posts",
        new_event=EventType.TWEET_NEW,
        payload_key="tweet",
        payload=_tweet,
        sentiment_field="text",
        payload_schema=TWEET_SCHEMA,
    ),
    StreamType(
        name="x:dm",
        platform="x",
        summary="new direct messages of the account's own inbox (end-to-end encrypted "
        "conversations are reported as unreadable, never read)",
        target=INBOX,
        diff="posts",
        new_event=EventType.DM_NEW,
        events=(EventType.DM_NEW, EventType.DM_UNREADABLE),
        payload_key="dm",
        payload=_dm,
        sentiment_field="text",
        payload_schema=DM_SCHEMA,
        needs_account=True,
    ),
)
