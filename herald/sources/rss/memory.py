"""What an RSS stream remembers between polls, kept in its cursor: entry and link hashes.

The engine's seen set knows entry ids; it cannot tell that a "new" id is an old entry
whose feed changed its guid. For that the source keeps, per entry, a short hash of its id
and of its link, newest first and bounded (``LIMIT`` pairs, 26 bytes each). The cursor is
saved with the poll's commit, so this memory moves in step with the seen set: a failed
poll changes neither.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from herald.sources.base import Gap
from herald.sources.rss.parse import Entry

LIMIT = 1000
"""Entry/link pairs kept beyond the current feed (a feed's own entries are always kept)."""


def digest(value: str) -> str:
    """48 bits: collisions among a thousand entries are about one in a billion."""
    return hashlib.blake2b(value.encode(), digest_size=6).hexdigest()


@dataclass(frozen=True, slots=True)
class Memory:
    pairs: tuple[tuple[str, str], ...] = ()
    """(id hash, link hash or ""), newest first."""

    @classmethod
    def load(cls, raw: str | None) -> Memory:
        pairs = []
        for token in (raw or "").split():
            ident, _, link = token.partition(":")
            if ident:
                pairs.append((ident, link))
        return cls(tuple(pairs))

    def dump(self) -> str:
        return " ".join(f"{i}:{link}" for i, link in self.pairs)


@dataclass(frozen=True, slots=True)
class Review:
    """One fetched feed held against the memory."""

    items: list[Entry]
    """The entries for the engine: churned ones are left out."""
    memory: Memory
    churned: list[Entry] = field(default_factory=list)
    gap: Gap | None = None


def review(entries: Sequence[Entry], memory: Memory, *, baseline: bool, high_water: int) -> Review:
    """Spot guid churn and an overflowed feed window.

    **Churn**: an entry whose id is unknown, whose link is known under another id, and
    whose old id is gone from the feed: the feed re-issued an old entry with a new guid.
    (Entries that merely share a link, such as every item linking to a home page, keep
    their own ids in the feed and are not churn.)

    **Feed window**: after the baseline, every entry is unknown and the oldest is newer
    than the newest seen: more entries appeared than the feed shows, some were missed.
    """
    unique: dict[str, Entry] = {}
    for entry in entries:
        unique.setdefault(entry.id, entry)
    hashed = [(e, digest(e.id), digest(e.link) if e.link else "") for e in unique.values()]
    known_ids = {i for i, _ in memory.pairs}
    known_links: dict[str, str] = {}
    for ident, link in memory.pairs:
        if link:
            known_links.setdefault(link, ident)
    present = {ident for _, ident, _ in hashed}
    churned: list[Entry] = []
    kept: list[tuple[Entry, str, str]] = []
    for entry, ident, link in hashed:
        old = known_links.get(link) if link else None
        if (
            not baseline
            and ident not in known_ids
            and old is not None
            and old != ident
            and old not in present
        ):
            churned.append(entry)
        else:
            kept.append((entry, ident, link))
    # churned entries were seen (under their old ids): a feed showing any is not overrun
    gap = None if baseline or churned else _window(kept, known_ids, high_water)
    current = [(ident, link) for _, ident, link in kept]
    # a churned entry's old pair stays remembered while the feed still shows it
    keep_old = {known_links[digest(e.link)] for e in churned}
    current += [p for p in memory.pairs if p[0] in keep_old]
    taken = {ident for ident, _ in current}
    older = [p for p in memory.pairs if p[0] not in taken][: max(LIMIT - len(current), 0)]
    return Review(
        items=[e for e, _, _ in kept],
        memory=Memory(tuple(current + older)),
        churned=churned,
        gap=gap,
    )


def _window(kept: list[tuple[Entry, str, str]], known: set[str], high_water: int) -> Gap | None:
    if not known or not kept or high_water <= 0:
        return None
    if any(ident in known for _, ident, _ in kept):
        return None
    oldest = min(e.order for e, _, _ in kept)
    if oldest <= high_water:
        return None
    return Gap(reason="feed_window")
