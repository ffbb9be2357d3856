"""The ``rss:feed`` stream type as data: a feed URL, and one ``stream:entry:new`` per entry."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from herald.errors import ValidationError
from herald.events import EventType
from herald.sentiment import SCHEMA as SENTIMENT_SCHEMA
from herald.sources.rss.parse import Entry
from herald.sources.types import StreamType, Target

MAX_URL = 2048
"""Characters in a feed URL: what browsers and most servers accept."""
_SCHEMES = ("http", "https")


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
    if len(url) > MAX_URL:
        raise ValidationError(f"target: {len(url)} characters is too long (at most {MAX_URL})")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise ValidationError("target: a URL may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"target: not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValidationError(
            f"target: must be an http or https URL (got {parts.scheme or 'no'} scheme)"
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError(
            "target: a feed URL may not carry credentials (user:password@); "
            "herald shows the URL in listings and events"
        )
    host = (parts.hostname or "").lower()
    if not host:
        raise ValidationError("target: the URL has no host")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


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
