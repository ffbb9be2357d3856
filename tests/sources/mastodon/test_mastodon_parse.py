"""The pure parsers over every recorded cassette: statuses, accounts, notifications, Link
headers and the instance's timelines_access, with the text of HTML content."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.errors import SchemaError
from herald.sources.mastodon import (
    html_to_text,
    parse_account,
    parse_accounts,
    parse_links,
    parse_mentions,
    parse_statuses,
)
from herald.testing.fakedon.recordings import Exchange, load_cassette

HOST = "localhost:3000"


def gets(cassettes: Path) -> list[tuple[str, Exchange]]:
    found = []
    for path in sorted(cassettes.glob("*.yaml")):
        for exchange in load_cassette(path):
            if exchange.method == "GET" and exchange.headers.get("content-type", "").startswith(
                "application/json"
            ):
                found.append((path.stem, exchange))
    assert found, "no recorded JSON answers"
    return found


def test_every_recorded_status_list_parses(cassettes: Path) -> None:
    timelines = 0
    for name, ex in gets(cassettes):
        body = ex.json()
        if ex.status != 200 or not isinstance(body, list) or "notifications" in ex.path:
            continue
        if "followers" in ex.path:
            assert parse_accounts(body, HOST) == [], name
            continue
        statuses = parse_statuses(body, HOST)
        timelines += 1
        assert len(statuses) == len(body), name
        for status, raw in zip(statuses, body, strict=True):
            assert status.id == raw["id"] and status.order == int(raw["id"])
            assert status.author == f"{raw['account']['acct']}@{HOST}"
            assert status.timestamp == raw["created_at"]
            assert status.url == raw["url"]
            assert "<" not in status.text and status.text, (name, raw["content"])
            assert status.metrics["favourites"] == raw["favourites_count"]
            payload = status.post_payload()
            assert set(payload) >= {"id", "text", "author", "authorName", "timestamp", "url"}
        ids = [int(s.id) for s in statuses]
        assert ids == sorted(ids, reverse=True), f"{name}: not newest first"
    assert timelines >= 5  # home, public, local, hashtag, pinned, paged account statuses


def test_every_recorded_account_parses(cassettes: Path) -> None:
    accounts = 0
    for _, ex in gets(cassettes):
        body = ex.json()
        if ex.status == 200 and isinstance(body, dict) and "acct" in body:
            user = parse_account(body, HOST)
            accounts += 1
            assert user.id == body["id"] and user.username == f"{body['acct']}@{HOST}"
            assert user.followers_count == body["followers_count"]
    assert accounts >= 4


def test_the_recorded_mention_notification(cassettes: Path) -> None:
    ex = next(e for _, e in gets(cassettes) if e.path == "/api/v1/notifications")
    [mention] = parse_mentions(ex.json(), HOST)
    assert mention.id == "21" and mention.status_id == "117020577157693549"
    assert mention.author == f"admin@{HOST}"
    assert mention.text == "@mastodonpy_test hello!"
    assert set(mention.mention_payload()) == {"id", "text", "author", "timestamp", "url", "lang"}


def test_the_recorded_link_headers(cassettes: Path) -> None:
    paged = [e for _, e in gets(cassettes) if "link" in e.headers]
    assert len(paged) >= 6
    for ex in paged:
        links = parse_links(ex.headers["link"])
        assert links.prev is not None
        if "pinned" not in ex.query:
            assert links.next is not None and "max_id" in links.next_params()
    notes = next(e for e in paged if e.path == "/api/v1/notifications")
    assert parse_links(notes.headers["link"]).next_params() == {
        "max_id": "21",
        "types[]": "mention",
    }
    first = next(e for e in paged if e.query == "limit=5" and "statuses" in e.path)
    assert parse_links(first.headers["link"]).next_params() == {
        "limit": "5",
        "max_id": "117020580489281910",
    }


def test_the_recorded_instance_says_who_may_read_the_feeds(cassettes: Path) -> None:
    v2 = next(e for _, e in gets(cassettes) if e.path.rstrip("/") == "/api/v2/instance")
    access = v2.json()["configuration"]["timelines_access"]
    assert access["live_feeds"] == {"local": "public", "remote": "public"}
    assert access["hashtag_feeds"] == {"local": "public", "remote": "public"}


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Toot!</p>", "Toot!"),
        ("<p>a &amp; b &lt;3</p>", "a & b <3"),
        ("<p>one<br>two</p><p>three</p>", "one\ntwo\n\nthree"),
        (
            '<p><a href="https://x.org/a"><span class="invisible">https://</span>'
            '<span class="">x.org/a</span></a></p>',
            "https://x.org/a",
        ),
        ("plain", "plain"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    "body",
    [{"error": "x"}, [{"id": "1"}], [{"id": "abc", "account": {}, "content": ""}], [None]],
)
def test_shapes_that_are_not_mastodon_s_are_schema_errors(body: object) -> None:
    with pytest.raises(SchemaError):
        parse_statuses(body, HOST)
