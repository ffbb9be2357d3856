"""The ``rss:feed`` stream type as data: a feed URL, and one ``stream:entry:new`` per entry."""

from __future__ import annotations

from typing import Any

from herald.errors import ValidationError
from herald.events import EventType
from herald.sentiment import SCHEMA as SENTIMENT_SCHEMA
from herald.sources.rss.parse import Entry
from herald.sources.types import StreamType, Target
from herald.sources.urls import target_url


def feed_url(value: object) -> str:
    """An absolute http(s) URL with a host and no credentials, at most 2048 characters.

    The scheme and host are lower-cased and a fragment is dropped (it never reaches the
    server), so one feed is one stream however it was typed. Credentials are refused: the
    URL is shown in every stream listing and event.
    """
    if not isinstance(value, str):
        raise ValidationError("target: must be a string, the feed's http(s) URL")
    url = value.strip()
    if not url:
        raise ValidationError("target: required, the feed's http(s) URL")
    return target_url(url, schemes=("http", "https"), scheme_rule="an http or https URL")


FEED_URL = Target(
    description="a feed's http(s) URL (RSS or Atom), at most 2048 characters, no credentials",
    example="https://www.theguardian.com/world/rss",
    validate=feed_url,
    # a strict subset of what feed_url accepts: anything matching it is a valid target
    pattern=(
        r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,60}[A-Za-z0-9])?"
        r"(?::[1-9][0-9]{0,3})?(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]{0,1000})?"
        r"(?:\?[A-Za-z0-9._~%!$&'()*+,;=:@/?-]{0,500})?$"
    ),
    label="feed URL",
)

ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "title", "link"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "link": {"type": "string"},
        "author": {"type": "string"},
        "published": {"type": "string", "format": "date-time"},
        "summary": {"type": "string"},
        "sentiment": SENTIMENT_SCHEMA,
    },
}


def _entry(item: Entry) -> dict[str, Any]:
    return item.entry_payload()


STREAM_TYPES: tuple[StreamType, ...] = (
    StreamType(
        name="rss:feed",
        platform="rss",
        summary="new entries of an RSS or Atom feed",
        target=FEED_URL,
        diff="posts",
        new_event=EventType.ENTRY_NEW,
        payload_key="entry",
        payload=_entry,
        sentiment_field="title",
        payload_schema=ENTRY_SCHEMA,
        paged=False,
    ),
)
