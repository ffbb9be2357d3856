"""One contract over every archive backend: memory, SQLite FTS5 and Postgres (real servers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from herald.archive.base import Archive, Filters, Query, decode_cursor, parse_terms
from tests.archive.archive_support import BACKENDS, T0, event, open_backend


@pytest.fixture(params=BACKENDS)
async def archive(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Archive]:
    async with open_backend(request.param, tmp_path) as backend:
        yield backend


def q(text: str | None = None, **kwargs: object) -> Query:
    return Query(terms=parse_terms(text), **kwargs)  # type: ignore[arg-type]


async def ids(archive: Archive, query: Query) -> list[str]:
    page = await archive.search(query)
    return [hit.event.event_id for hit in page.hits]


async def test_insert_is_idempotent_by_event_id(archive: Archive) -> None:
    first = [event(i, f"hello number {i}") for i in range(5)]
    assert await archive.insert_many(first) == 5
    again = [*first[2:], event(5, "a new one"), event(5, "a new one")]
    assert await archive.insert_many(again) == 1
    assert await archive.count() == 6
    assert await archive.insert_many([]) == 0


async def test_search_finds_words_with_highlights(archive: Archive) -> None:
    await archive.insert_many(
        [
            event(1, "The launch went well today"),
            event(2, "Nothing to see here"),
            event(3, "Another LAUNCH is planned for Friday"),
        ]
    )
    page = await archive.search(q("launch"))
    assert [h.event.event_id for h in page.hits] == ["item:3@s1", "item:1@s1"]  # newest first
    for hit in page.hits:
        assert "<mark>" in hit.highlight and "</mark>" in hit.highlight
        marked = hit.highlight.split("<mark>", 1)[1].split("</mark>", 1)[0]
        assert marked.lower() == "launch"
    assert page.hits[0].event.event()["tweet"]["text"] == "Another LAUNCH is planned for Friday"
    assert page.hits[0].event.event()["offset"] == f"{T0 + 3000}-0"


async def test_all_terms_required_phrases_and_prefixes(archive: Archive) -> None:
    await archive.insert_many(
        [
            event(1, "release notes for herald"),
            event(2, "notes about a release"),
            event(3, "releasing soon"),
        ]
    )
    assert set(await ids(archive, q("release notes"))) == {"item:1@s1", "item:2@s1"}
    assert await ids(archive, q('"release notes"')) == ["item:1@s1"]
    assert set(await ids(archive, q("releas*"))) == {"item:1@s1", "item:2@s1", "item:3@s1"}
    assert await ids(archive, q("release missingword")) == []


async def test_author_and_other_text_fields_are_searched(archive: Archive) -> None:
    entry = event(1, "ignored", key="entry", etype="stream:entry:new", platform="rss")
    alert = event(
        2,
        "x",
        etype="alert:firing",
        platform="herald",
        key="other",
        alert={"ruleId": "r1", "labels": {"team": "skyfall"}, "fingerprint": "abc"},
    )
    await archive.insert_many([entry, alert, event(3, "plain text")])
    assert await ids(archive, q("author3")) == ["item:3@s1"]
    assert await ids(archive, q("skyfall")) == ["item:2@s1"]
    assert await ids(archive, q("abc")) == []  # a fingerprint is an id, not text
    assert await ids(archive, q("https")) == []  # links are not text


@pytest.mark.parametrize(
    "nasty",
    ['"', "*", "OR", "NEAR(", "'; DROP TABLE events; --", "a OR b", 'x" OR "y', "(((", "-", ":*"],
)
async def test_malicious_queries_are_text_not_syntax(archive: Archive, nasty: str) -> None:
    await archive.insert_many([event(1, "a quiet day"), event(2, "OR gate near the door")])
    page = await archive.search(q(nasty))  # never raises
    for hit in page.hits:
        assert hit.event.event_id in {"item:1@s1", "item:2@s1"}
    assert await archive.count() == 2
    assert await ids(archive, q("OR gate")) == ["item:2@s1"]
    assert await ids(archive, q("NEAR(")) == ["item:2@s1"]


async def test_filters(archive: Archive) -> None:
    await archive.insert_many(
        [
            event(1, "news one", stream="a"),
            event(2, "news two", stream="b", platform="bsky", key="post", etype="stream:post:new"),
            event(3, "news three", stream="a", etype="stream:mention:new", key="mention"),
            event(4, "news four", stream="c"),
        ]
    )

    async def found(**filters: object) -> list[str]:
        return await ids(archive, q("news", filters=Filters(**filters)))  # type: ignore[arg-type]

    assert await found(platforms=("bsky",)) == ["item:2@b"]
    assert await found(types=("stream:mention:new",)) == ["item:3@a"]
    assert await found(stream_ids=("a", "c")) == ["item:4@c", "item:3@a", "item:1@a"]
    assert await found(stream_ids=()) == []
    assert await found(since=T0 + 2000, until=T0 + 4000) == ["item:3@a", "item:2@b"]
    # no text: the filters alone
    assert await ids(archive, q(None, filters=Filters(platforms=("x",)))) == [
        "item:4@c",
        "item:3@a",
        "item:1@a",
    ]


async def test_paging_with_a_cursor_visits_each_once(archive: Archive) -> None:
    """Newest first by time; events of the same millisecond in an order the backend keeps
    (eventId in memory and Postgres, archive order in SQLite), the same on every page."""
    same_ms = [event(i, f"tick {i}", ts=T0 + (i // 3) * 1000) for i in range(10)]
    await archive.insert_many(list(reversed(same_ms)))
    whole = await ids(archive, q("tick", limit=50))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await archive.search(q("tick", limit=4, cursor=decode_cursor(cursor)))
        seen.extend(h.event.event_id for h in page.hits)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == whole and len(set(seen)) == 10
    by_id = {e.event_id: e.ts for e in same_ms}
    stamps = [by_id[eid] for eid in seen]
    assert stamps == sorted(stamps, reverse=True)
    filtered = await ids(archive, q(None, limit=50, filters=Filters(until=T0 + 2000)))
    assert sorted(filtered) == sorted(e.event_id for e in same_ms if e.ts < T0 + 2000)


async def test_export_streams_oldest_first_with_filters(archive: Archive) -> None:
    events = [event(i, f"export {i}", stream="a" if i % 2 else "b") for i in range(25)]
    await archive.insert_many(list(reversed(events)))
    got = [e.event_id async for e in archive.export(Filters(), chunk=7)]
    assert got == [e.event_id for e in events]
    only_a = [e.event_id async for e in archive.export(Filters(stream_ids=("a",)), chunk=4)]
    assert only_a == [e.event_id for e in events if e.stream_id == "a"]
    first = [e async for e in archive.export(Filters(until=T0 + 1), chunk=3)]
    assert [e.event_id for e in first] == ["item:0@b"]
    assert first[0].event()["tweet"]["text"] == "export 0"


async def test_purge_removes_old_events_from_search_too(archive: Archive) -> None:
    await archive.insert_many([event(i, f"old news {i}") for i in range(6)])
    assert await archive.purge(T0 + 3000) == 3
    assert await archive.count() == 3
    assert sorted(await ids(archive, q("news"))) == ["item:3@s1", "item:4@s1", "item:5@s1"]
    assert await archive.purge(T0) == 0
    # a purged eventId may be archived again (it is new to the archive)
    assert await archive.insert_many([event(0, "old news 0")]) == 1


async def test_export_with_terms(archive: Archive) -> None:
    await archive.insert_many([event(i, "alpha" if i % 3 == 0 else "beta") for i in range(10)])
    got = [e.event_id async for e in archive.export(Filters(), terms=parse_terms("alpha"), chunk=2)]
    assert got == [f"item:{i}@s1" for i in (0, 3, 6, 9)]
