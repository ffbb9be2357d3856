"""Feed bytes -> typed entries, with feedparser (RSS 0.9x/1.0/2.0 and Atom).

Pure: no I/O. Errors are the feed family of :mod:`herald.errors`, each with a reason a
user can act on: an HTML page is "not a feed", a document that is not well-formed XML is
an "invalid feed" naming the line.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
import time
import xml.sax
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import feedparser

from herald.errors import InvalidFeed, NotAFeed

MAX_ID = 200
"""Longer entry ids (and links used as ids) are replaced by ``sha256:<32 hex>`` so every
``eventId`` stays bounded; the payload's ``link`` still carries the full URL."""
MAX_TITLE = 500
MAX_SUMMARY = 1000
"""Summaries are plain text (tags dropped, entities decoded), cut to this many characters."""

_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed entry as the engine sees it (an :class:`~herald.sources.models.Item`)."""

    id: str
    title: str
    link: str
    order: int = 0
    """Published (else updated) time in microseconds since the epoch; 0: the feed gave none."""
    author: str | None = None
    published: str | None = None
    summary: str | None = None

    @property
    def pinned(self) -> bool:
        return False

    def entry_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"id": self.id, "title": self.title, "link": self.link}
        if self.author:
            payload["author"] = self.author
        if self.published:
            payload["published"] = self.published
        if self.summary:
            payload["summary"] = self.summary
        return payload


@dataclass(frozen=True, slots=True)
class Feed:
    version: str
    """feedparser's name of the format: ``rss20``, ``rss10``, ``atom10``..."""
    title: str
    entries: list[Entry]


def bounded_id(value: str) -> str:
    if len(value) <= MAX_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _clean(value: object, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", value))).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _time(entry: Mapping[str, Any]) -> time.struct_time | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            return value
    return None


def _entry(raw: Mapping[str, Any]) -> Entry:
    link = str(raw.get("link") or "").strip()
    guid = str(raw.get("id") or "").strip()
    title = _clean(raw.get("title"), MAX_TITLE)
    parsed = _time(raw)
    order = calendar.timegm(parsed) * 1_000_000 if parsed is not None else 0
    published = (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed) if parsed is not None and order > 0 else None
    )
    if guid or link:
        object_id = bounded_id(guid or link)
    else:  # neither a guid nor a link: what the entry says is all that tells it apart
        basis = "\x1f".join((title, published or "", str(raw.get("summary") or "")))
        object_id = "sha256:" + hashlib.sha256(basis.encode()).hexdigest()[:32]
    return Entry(
        id=object_id,
        title=title,
        link=link,
        order=max(order, 0),
        author=_clean(raw.get("author"), MAX_TITLE) or None,
        published=published,
        summary=_clean(raw.get("summary"), MAX_SUMMARY) or None,
    )


def parse_feed(body: bytes, url: str = "", content_type: str | None = None) -> Feed:
    """Parse a feed document. ``url`` (where it was read) resolves relative links.

    Raises :class:`NotAFeed` for an HTML page or any document that is not RSS or Atom, and
    :class:`InvalidFeed` for a feed that is not well-formed XML.
    """
    if not body.strip():
        raise NotAFeed("the URL answered an empty body, not a feed")
    if _HTML_START.match(body[:4096]):
        raise NotAFeed("the URL serves an HTML page, not an RSS or Atom feed")
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and b"\x00" not in body[:4]:
        raise NotAFeed("the URL serves something that is not XML, so not an RSS or Atom feed")
    headers = {"content-location": url} if url else {}
    if content_type:
        headers["content-type"] = content_type
    # links resolve either way; summaries are reduced to text, so their URIs need no work
    parsed = feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    error = parsed.get("bozo_exception")
    if parsed.get("bozo") and isinstance(error, xml.sax.SAXException):
        raise InvalidFeed(f"the feed is not well-formed XML: {_xml_error(error)}")
    version = str(parsed.get("version") or "")
    if not version:
        raise NotAFeed("the document is not an RSS or Atom feed (no rss, RDF or feed root)")
    entries = [_entry(raw) for raw in parsed.get("entries", [])]
    return Feed(version=version, title=_clean(parsed.feed.get("title"), MAX_TITLE), entries=entries)


def _xml_error(error: xml.sax.SAXException) -> str:
    if isinstance(error, xml.sax.SAXParseException):
        line, column = error.getLineNumber(), error.getColumnNumber()
        return f"{error.getMessage()} at line {line}, column {column}"
    return str(error.getMessage())
