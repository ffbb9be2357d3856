"""What the archive indexes and how user text becomes terms (pure functions)."""

from __future__ import annotations

import orjson
import pytest

from herald.archive.base import Term, decode_cursor, encode_cursor, parse_terms, parse_time
from herald.archive.records import record_of, record_of_entry, searchable_text
from herald.errors import ValidationError
from herald.events import Event, EventType


def test_terms_are_words_phrases_and_prefixes() -> None:
    assert parse_terms('Launch "release notes" herald* OR NEAR( \'; DROP') == (
        Term(("launch",)),
        Term(("release", "notes")),
        Term(("herald",), prefix=True),
        Term(("or",)),
        Term(("near",)),
        Term(("drop",)),
    )
    assert parse_terms('" * - (( ') == ()
    assert parse_terms(None) == ()
    assert parse_terms('"unclosed phrase') == (Term(("unclosed", "phrase")),)
    with pytest.raises(ValidationError, match=r"^q: "):
        parse_terms("x" * 501)
    with pytest.raises(ValidationError, match=r"^q: at most 16 terms"):
        parse_terms(" ".join(f"w{i}" for i in range(17)))


def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor(17, "tweet:1@s")) == (17, "tweet:1@s")
    for bad in ("%%%", "bm90IGpzb24", encode_cursor(1, "x")[:-3] + "AAA"):
        with pytest.raises(ValidationError, match=r"^cursor: "):
            decode_cursor(bad)


def test_times() -> None:
    assert parse_time("from", "2026-01-01") == 1_767_225_600_000
    assert parse_time("from", "2026-01-01T01:00:00+01:00") == 1_767_225_600_000
    assert parse_time("from", "1767225600000") == 1_767_225_600_000
    with pytest.raises(ValidationError, match=r"^to: "):
        parse_time("to", "tomorrow")


def test_text_comes_from_the_catalogs_payload_keys() -> None:
    entry = {
        "type": "stream:entry:new",
        "eventId": "entry:1@f",
        "streamId": "f",
        "username": "https://blog.example/feed",
        "target": "https://blog.example/feed",
        "platform": "rss",
        "entry": {
            "id": "urn:1",
            "title": "Big release",
            "link": "https://blog.example/1",
            "summary": "What changed",
            "published": "2026-01-01",
        },
    }
    assert searchable_text(entry) == "Big release What changed"
    dm = {
        "type": "stream:dm:new",
        "eventId": "dm:1@d",
        "dm": {"id": "9", "text": "hi there", "sender": "carol", "conversationId": "1-2"},
    }
    assert searchable_text(dm) == "hi there carol"
    alert = {
        "type": "alert:firing",
        "eventId": "alert.firing:x@a",
        "alert": {"ruleId": "r", "labels": {"team": "ops"}, "fingerprint": "f00"},
    }
    assert searchable_text(alert) == "ops"  # ids (ruleId, fingerprint) are not text


def test_record_of_a_log_entry_keeps_its_bytes_and_offset() -> None:
    event = Event(EventType.POST_NEW, "s", "alice", "1", {"post": {"id": "1", "text": "hé\x00llo"}})
    raw = event.encode()
    record = record_of_entry("1767225600000-3", raw)
    assert record is not None
    assert record.offset == "1767225600000-3"
    assert record.body.startswith(b'{"offset":"1767225600000-3",')
    assert orjson.loads(record.body)["post"]["text"] == "hé\x00llo"
    assert "\x00" not in record.text  # Postgres text cannot hold NUL
    assert record_of_entry("1-0", b"not json") is None
    assert record_of_entry("1-0", b'{"no": "eventId"}') is None
    undated = record_of({"eventId": "e", "detectedAt": "garbage"}, "1767225600000-0")
    assert undated.ts == 1_767_225_600_000  # from the offset
