"""Pure parsers of Mastodon's REST answers: statuses, accounts, notifications, Link headers.

A status's ``content`` is HTML; :func:`html_to_text` turns it into plain text with the
standard library's parser (paragraphs and line breaks become newlines, links keep their
text). Shapes that are not what Mastodon sends raise :class:`SchemaError` naming where.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from herald.errors import SchemaError
from herald.sources.models import User, id_order

Json = dict[str, Any]
_METRICS = (
    ("replies", "replies_count"),
    ("reblogs", "reblogs_count"),
    ("favourites", "favourites_count"),
    ("quotes", "quotes_count"),
)
_BLOCKS = frozenset({"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4"})


class _Text(HTMLParser):
    """Collects text; block ends and ``<br>`` become newlines. Mastodon's hidden link parts
    (``<span class="invisible">https://</span>``) are kept: the text is the full link."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """Mastodon's status HTML as plain text."""
    if "<" not in content and "&" not in content:
        return content
    parser = _Text()
    parser.feed(content)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass(frozen=True, slots=True)
class Status:
    """One status, as a posts-diff item; for a mention, ``id`` is the notification id."""

    id: str
    status_id: str
    text: str
    author: str
    author_name: str = ""
    timestamp: str = ""
    url: str = ""
    lang: str | None = None
    metrics: dict[str, int] = field(default_factory=dict)
    pinned: bool = False
    reblog_of: str | None = None

    @property
    def order(self) -> int:
        return id_order(self.id)

    def post_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": self.status_id,
            "text": self.text,
            "author": self.author,
            "authorName": self.author_name,
            "timestamp": self.timestamp,
            "url": self.url,
        }
        if self.lang:
            payload["lang"] = self.lang
        if self.metrics:
            payload["metrics"] = dict(self.metrics)
        return payload

    def mention_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": self.status_id,
            "text": self.text,
            "author": self.author,
            "timestamp": self.timestamp,
            "url": self.url,
        }
        if self.lang:
            payload["lang"] = self.lang
        return payload


def _need(obj: Mapping[str, Any], key: str, path: str) -> Any:
    if not isinstance(obj, Mapping):
        raise SchemaError("expected an object", path=path)
    if key not in obj or obj[key] is None:
        raise SchemaError(f"missing {key!r}", path=path)
    return obj[key]


def _str_id(obj: Mapping[str, Any], path: str) -> str:
    value = _need(obj, "id", path)
    if not isinstance(value, str | int) or not str(value).isdigit():
        raise SchemaError(f"id {value!r} is not a numeric string", path=f"{path}.id")
    return str(value)


def qualified(acct: str, host: str) -> str:
    """``user`` on ``host`` as ``user@host``; a remote ``user@other`` stays as it is."""
    return acct if "@" in acct else f"{acct}@{host}"


def parse_account(obj: Any, host: str, path: str = "account") -> User:
    """An account as a :class:`User`; ``username`` is its ``acct`` qualified with ``host``."""
    account_id = _str_id(obj, path)
    acct = str(_need(obj, "acct", path))
    count = obj.get("followers_count")
    return User(
        id=account_id,
        username=qualified(acct, host),
        name=str(obj.get("display_name") or obj.get("username") or acct),
        followers_count=count if isinstance(count, int) else None,
        following_count=obj.get("following_count"),
        tweets_count=obj.get("statuses_count"),
        protected=bool(obj.get("locked")),
        created_at=obj.get("created_at"),
        avatar_url=obj.get("avatar"),
    )


def _metrics(obj: Mapping[str, Any]) -> dict[str, int]:
    return {
        name: value
        for name, key in _METRICS
        if isinstance(value := obj.get(key), int) and not isinstance(value, bool)
    }


def parse_status(obj: Any, host: str, path: str = "status", item_id: str | None = None) -> Status:
    """One status. A boost carries the boosted status's text, link and counts, and the
    booster as its author: the stream watched the booster."""
    status_id = _str_id(obj, path)
    account = parse_account(_need(obj, "account", path), host, f"{path}.account")
    shown = obj
    reblog = obj.get("reblog")
    if isinstance(reblog, Mapping):
        shown = reblog
        _str_id(reblog, f"{path}.reblog")
    content = _need(shown, "content", path)
    if not isinstance(content, str):
        raise SchemaError("content is not a string", path=f"{path}.content")
    spoiler = shown.get("spoiler_text") or ""
    text = html_to_text(content)
    if spoiler:
        text = f"CW: {spoiler}\n\n{text}" if text else f"CW: {spoiler}"
    lang = shown.get("language")
    return Status(
        id=item_id or status_id,
        status_id=status_id,
        text=text,
        author=account.username,
        author_name=account.name,
        timestamp=str(_need(obj, "created_at", path)),
        url=str(shown.get("url") or shown.get("uri") or ""),
        lang=lang if isinstance(lang, str) and lang else None,
        metrics=_metrics(shown),
        pinned=obj.get("pinned") is True,
        reblog_of=str(reblog["id"]) if isinstance(reblog, Mapping) else None,
    )


def _array(body: Any, what: str) -> list[Any]:
    if not isinstance(body, list):
        raise SchemaError(f"{what}: expected a JSON array, got {type(body).__name__}", path="$")
    return body


def parse_statuses(body: Any, host: str) -> list[Status]:
    """A timeline page (newest first)."""
    return [parse_status(s, host, f"$[{i}]") for i, s in enumerate(_array(body, "timeline"))]


def parse_accounts(body: Any, host: str) -> list[User]:
    """A page of accounts (followers)."""
    return [parse_account(a, host, f"$[{i}]") for i, a in enumerate(_array(body, "accounts"))]


def parse_mentions(body: Any, host: str) -> list[Status]:
    """Mention notifications as statuses keyed by the notification id (what pages and
    orders them); other notification types, and mentions of a deleted status, are skipped."""
    found: list[Status] = []
    for i, note in enumerate(_array(body, "notifications")):
        path = f"$[{i}]"
        note_id = _str_id(note, path)
        if note.get("type") != "mention" or not isinstance(note.get("status"), Mapping):
            continue
        found.append(parse_status(note["status"], host, f"{path}.status", item_id=note_id))
    return found


# --- Link headers --------------------------------------------------------------------
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([a-z]+)"?', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Links:
    """The ``next`` (older) and ``prev`` (newer) pages of a Link header."""

    next: str | None = None
    prev: str | None = None

    def next_params(self) -> dict[str, str]:
        """The query of the ``next`` link (``max_id`` and what Mastodon carried over)."""
        return _query(self.next)


def _query(url: str | None) -> dict[str, str]:
    if not url:
        return {}
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def parse_links(header: str | None) -> Links:
    if not header:
        return Links()
    found = {rel.lower(): url for url, rel in _LINK.findall(header)}
    return Links(next=found.get("next"), prev=found.get("prev"))
