"""One served feed: the recorded document split into head, entries and tail, plus what the
control API added, rendered back as bytes in the feed's own encoding and format.

The recorded bytes stay as they are: added entries go in front of the recorded ones,
written as an RSS ``<item>``, an RSS 1.0 (RDF) ``<item rdf:about>`` or an Atom
``<entry>``; "churn" rewrites every entry's id (guid) and keeps its link.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

Format = Literal["rss", "rdf", "atom"]
CONTENT_TYPES: dict[Format, str] = {
    "rss": "application/rss+xml; charset={charset}",
    "rdf": "application/rdf+xml; charset={charset}",
    "atom": "application/atom+xml; charset={charset}",
}
SUFFIXES = (".rss", ".atom", ".xml", ".rdf")

_ENCODING = re.compile(rb"<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")
_BLOCKS: dict[Format, re.Pattern[bytes]] = {
    "rss": re.compile(rb"<item[\s>].*?</item>", re.S),
    "rdf": re.compile(rb"<item[\s>].*?</item>", re.S),
    "atom": re.compile(rb"<entry[\s>].*?</entry>", re.S),
}
_CLOSERS: dict[Format, bytes] = {"rss": b"</channel>", "rdf": b"</rdf:RDF>", "atom": b"</feed>"}
_RSS_GUID = re.compile(rb"(<guid\b[^>]*>)(.*?)(</guid>)", re.S)
_ATOM_ID = re.compile(rb"(<id>)(.*?)(</id>)", re.S)
_RDF_ABOUT = re.compile(rb"(<item\s+rdf:about=\")([^\"]*)(\")")

EMPTY: dict[Format, str] = {
    "rss": '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
    "<title>{title}</title><link>{link}</link><description>{title}</description>\n"
    "</channel></rss>\n",
    "atom": '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
    "<title>{title}</title><id>{link}</id><updated>2026-01-01T00:00:00Z</updated>\n</feed>\n",
}


def detect(body: bytes) -> Format:
    head = body[:4096]
    if b"<rdf:RDF" in head or b"<RDF" in head:
        return "rdf"
    if re.search(rb"<feed[\s>]", head):
        return "atom"
    if re.search(rb"<rss[\s>]", head):
        return "rss"
    raise ValueError("not an RSS, RDF or Atom document")


@dataclass
class Added:
    id: str
    title: str
    link: str
    published: datetime
    summary: str = ""
    author: str = ""

    def payload(self) -> dict[str, str]:
        return {
            "id": self.id,
            "title": self.title,
            "link": self.link,
            "published": self.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


@dataclass
class FeedDoc:
    name: str
    format: Format
    encoding: str
    head: bytes
    blocks: list[bytes]
    tail: bytes
    added: list[Added] = field(default_factory=list)
    churn: int = 0
    version: int = 1
    last_modified: float = field(default_factory=lambda: float(int(time.time())))
    limit: int | None = None
    """Serve only the newest ``limit`` entries (a feed window), None: all of them."""
    headers: dict[str, str] = field(default_factory=dict)
    etag_on: bool = True
    last_modified_on: bool = True

    @classmethod
    def load(cls, name: str, body: bytes) -> FeedDoc:
        fmt = detect(body)
        found = _ENCODING.search(body[:200])
        encoding = found.group(1).decode() if found else "utf-8"
        matches = list(_BLOCKS[fmt].finditer(body))
        if matches:
            head, tail = body[: matches[0].start()], body[matches[-1].end() :]
        else:
            closer = body.rfind(_CLOSERS[fmt])
            if closer < 0:
                raise ValueError(f"{name}: no {_CLOSERS[fmt].decode()} to add entries before")
            head, tail = body[:closer], body[closer:]
        return cls(name, fmt, encoding, head, [m.group(0) for m in matches], tail)

    @classmethod
    def empty(cls, name: str, fmt: Format, link: str) -> FeedDoc:
        text = EMPTY["atom" if fmt == "atom" else "rss"]
        return cls.load(name, text.format(title=escape(name), link=escape(link)).encode())

    # --- changes ------------------------------------------------------------------
    def changed(self) -> None:
        """New content: a new ETag and a Last-Modified that always moves forward."""
        self.version += 1
        self.last_modified = max(float(int(time.time())), self.last_modified + 1)

    def add(self, entry: Added) -> None:
        self.added.insert(0, entry)
        self.changed()

    def rechurn(self) -> int:
        """Give every entry a new id, same link; returns how many entries the feed shows."""
        self.churn += 1
        self.changed()
        return len(self.entries())

    @property
    def etag(self) -> str:
        return f'"{self.name}-v{self.version}"'

    @property
    def last_modified_http(self) -> str:
        return format_datetime(datetime.fromtimestamp(self.last_modified, UTC), usegmt=True)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format].format(charset=self.encoding)

    # --- rendering ----------------------------------------------------------------
    def entries(self) -> list[bytes]:
        blocks = [self._render(a) for a in self.added] + [self._churned(b) for b in self.blocks]
        return blocks if self.limit is None else blocks[: self.limit]

    def body(self) -> bytes:
        return self.head + b"\n".join(self.entries()) + b"\n" + self.tail

    def _id(self, value: str) -> str:
        return f"{value}#churn{self.churn}" if self.churn else value

    def _churned(self, block: bytes) -> bytes:
        if not self.churn:
            return block
        suffix = f"#churn{self.churn}".encode()
        pattern = {"rss": _RSS_GUID, "rdf": _RDF_ABOUT, "atom": _ATOM_ID}[self.format]
        return pattern.sub(lambda m: m.group(1) + m.group(2) + suffix + m.group(3), block, count=1)

    def _render(self, a: Added) -> bytes:
        ident, title, link = escape(self._id(a.id)), escape(a.title), escape(a.link)
        summary, author = escape(a.summary), escape(a.author)
        iso = a.published.strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.format == "atom":
            text = (
                f"<entry><id>{ident}</id><title>{title}</title>"
                f'<link rel="alternate" href={quoteattr(a.link)}/>'
                f"<published>{iso}</published><updated>{iso}</updated>"
                + (f"<author><name>{author}</name></author>" if a.author else "")
                + (f"<summary>{summary}</summary>" if a.summary else "")
                + "</entry>"
            )
        elif self.format == "rdf":
            text = (
                f"<item rdf:about={quoteattr(self._id(a.id))}><title>{title}</title>"
                f"<link>{link}</link><description>{summary}</description>"
                f'<dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">{iso}</dc:date></item>'
            )
        else:
            text = (
                f"<item><title>{title}</title><link>{link}</link>"
                f'<guid isPermaLink="false">{ident}</guid>'
                f"<pubDate>{format_datetime(a.published, usegmt=True)}</pubDate>"
                + (f"<description>{summary}</description>" if a.summary else "")
                + (f"<author>{author}</author>" if a.author else "")
                + "</item>"
            )
        return text.encode(self.encoding, errors="xmlcharrefreplace")


def load_folder(folder: Path) -> dict[str, FeedDoc]:
    """Every ``.rss``/``.atom``/``.xml``/``.rdf`` file of ``folder`` (or of ``folder/rss``)
    by its stem; a file that is not a feed fails loudly, naming it."""
    if (folder / "rss").is_dir():
        folder = folder / "rss"
    if not folder.is_dir():
        raise FileNotFoundError(f"no feed folder at {folder}")
    feeds: dict[str, FeedDoc] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix in SUFFIXES and path.is_file():
            try:
                feeds[path.stem] = FeedDoc.load(path.stem, path.read_bytes())
            except ValueError as exc:
                raise ValueError(f"{path.name}: {exc}") from None
    return feeds
