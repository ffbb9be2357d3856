"""The feed parser over every recorded feed, and over what is not a feed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rss_support import FEEDS

from herald.errors import InvalidFeed, NotAFeed, ValidationError
from herald.sources.rss import STREAM_TYPES, feed_url, parse_feed
from herald.sources.rss.parse import MAX_ID, MAX_SUMMARY, bounded_id

URL = "https://example.com/feeds/x"


def test_every_recorded_feed_is_served_and_none_is_forgotten(feeds: Path) -> None:
    on_disk = {p.stem for p in feeds.iterdir() if p.suffix in (".rss", ".atom")}
    assert on_disk == set(FEEDS)


@pytest.mark.parametrize("name", FEEDS)
def test_each_recorded_feed_parses_with_the_fields_present(feeds: Path, name: str) -> None:
    path = next(feeds.glob(f"{name}.*"))
    feed = parse_feed(path.read_bytes(), URL)  # an unreadable recording fails here, loudly
    assert feed.version and feed.entries, f"{path.name}: no entries"
    ids = [e.id for e in feed.entries]
    assert len(set(ids)) == len(ids), f"{path.name}: duplicate ids"
    for entry in feed.entries:
        assert entry.id and len(entry.id) <= MAX_ID
        assert entry.title, f"{path.name}: an entry without a title"
        assert entry.link.startswith(("http://", "https://")), entry.link
        assert entry.order > 1_000_000_000_000_000, "published/updated time in µs"
        assert entry.published is not None and entry.published.endswith("Z")
        assert entry.pinned is False
        payload = entry.entry_payload()
        assert {"id", "title", "link", "published"} <= set(payload)
        assert set(payload) <= {"id", "title", "link", "author", "published", "summary"}
        if entry.summary is not None:
            assert len(entry.summary) <= MAX_SUMMARY and "<" not in entry.summary[:1]


def test_recorded_details_survive(feeds: Path) -> None:
    guardian = parse_feed((feeds / "guardian.rss").read_bytes(), URL).entries[0]
    assert guardian.author == "David Smith in Washington"
    assert guardian.published == "2018-01-31T07:26:05Z"
    # no guid: the link is the id; ISO-8859-1 decoded
    jn = parse_feed((feeds / "encoding.rss").read_bytes(), URL).entries[0]
    assert jn.id == jn.link and "Mãe" in jn.title
    # Atom's relative links resolve against where the feed was read
    gulp = parse_feed((feeds / "gulp-atom.atom").read_bytes(), URL).entries[0]
    assert gulp.link == "https://example.com/gulpjs/gulp/releases/tag/v3.9.0"
    assert gulp.id == "tag:github.com,2008:Repository/11167738/v3.9.0"
    # summaries are plain text, bounded
    medium = parse_feed((feeds / "content-encoded.rss").read_bytes(), URL).entries[0]
    assert medium.summary is not None and medium.summary.endswith("…")
    assert "<" not in medium.summary


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        (b"<!DOCTYPE html><html><body>hi</body></html>", NotAFeed, "HTML page"),
        (b"  <html lang='en'><head></head></html>", NotAFeed, "HTML page"),
        (b'{"items": []}', NotAFeed, "not XML"),
        (b"", NotAFeed, "empty body"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', NotAFeed, "RSS"),
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>a</ti',
            InvalidFeed,
            "line 1",
        ),
        (
            b'<rss version="2.0"><channel><title>a & b</title></channel></rss>',
            InvalidFeed,
            "well-formed",
        ),
    ],
)
def test_what_is_not_a_readable_feed_is_a_clear_error(
    body: bytes, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        parse_feed(body, URL)


def test_long_ids_are_hashed_and_entries_without_ids_get_a_stable_one() -> None:
    long = "https://example.com/" + "a" * 400
    assert bounded_id(long).startswith("sha256:") and len(bounded_id(long)) == 39
    assert bounded_id(long) == bounded_id(long) and bounded_id("short") == "short"
    body = (
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>no id, no link</title><pubDate>Mon, 02 Feb 2026 10:00:00 GMT</pubDate>"
        b"</item><item><title>&lt;b&gt;odd&lt;/b&gt; &amp; x</title><guid>"
        + long.encode()
        + b"</guid></item></channel></rss>"
    )
    first, second = parse_feed(body, URL).entries
    assert first.id.startswith("sha256:") and first.id == parse_feed(body, URL).entries[0].id
    assert first.order == 1770026400 * 1_000_000 and first.link == ""
    assert second.id == bounded_id(long) and second.order == 0 and second.published is None
    assert second.title == "odd & x"  # markup in titles is dropped, entities decoded


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("https://Example.COM/feed.xml", "https://example.com/feed.xml"),
        ("  HTTP://example.com  ", "http://example.com/"),
        ("http://127.0.0.1:8092/feeds/x?a=1#top", "http://127.0.0.1:8092/feeds/x?a=1"),
        ("https://[::1]:8443/Feed", "https://[::1]:8443/Feed"),
    ],
)
def test_a_feed_url_is_normalised(given: str, normalised: str) -> None:
    assert feed_url(given) == normalised
    assert STREAM_TYPES[0].target.validate(given) == normalised


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("ftp://example.com/feed", "http or https"),
        ("example.com/feed", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("https://user:pw@example.com/feed", "credentials"),
        ("https://token@example.com/feed", "credentials"),
        ("https:///feed", "no host"),
        ("https://example.com/a b", "spaces"),
        ("https://example.com:99999/", "valid URL"),
        ("https://example.com/" + "a" * 2048, "too long"),
        ("", "required"),
        (42, "string"),
    ],
)
def test_a_bad_feed_url_is_refused_naming_the_field(given: object, words: str) -> None:
    with pytest.raises(ValidationError, match=words) as caught:
        feed_url(given)
    assert caught.value.detail.startswith("target:")


@settings(max_examples=300, deadline=None)
@given(st.from_regex(STREAM_TYPES[0].target.pattern or "", fullmatch=True))
def test_whatever_the_published_pattern_admits_is_a_valid_target(url: str) -> None:
    assert feed_url(url).startswith(("http://", "https://"))
