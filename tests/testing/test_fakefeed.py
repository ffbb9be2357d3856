"""The feed stand-in: every recording served as recorded, real validators and 304s, entries
added in each feed's own format, and the control API's faults and counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import feedparser
import httpx
import pytest
from fastapi import FastAPI

from herald.sources.rss import parse_feed
from herald.testing.fakefeed import create_app, default_fixtures
from herald.testing.fakefeed.feeds import FeedDoc, load_folder
from tests.conftest import fixtures_root, need

FEED_FILES = (
    "content-encoded.rss",
    "craigslist.rss",
    "encoding.rss",
    "feedburner.atom",
    "guardian.rss",
    "gulp-atom.atom",
    "heise.atom",
    "narro.rss",
    "reddit.rss",
)


@pytest.fixture
def feeds() -> Path:
    folder = fixtures_root() / "rss"
    need(folder.is_dir(), f"recorded feeds not found at {folder} (set HERALD_FIXTURES)")
    return folder


@pytest.fixture
def app(feeds: Path) -> FastAPI:
    return create_app(feeds)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fakefeed.test") as c:
        yield c


@pytest.mark.parametrize("file", FEED_FILES)
async def test_each_recording_is_served_byte_for_byte(
    client: httpx.AsyncClient, feeds: Path, file: str
) -> None:
    name = file.rsplit(".", 1)[0]
    response = await client.get(f"/feeds/{name}")
    assert response.status_code == 200
    recorded = feedparser.parse((feeds / file).read_bytes())
    served = feedparser.parse(response.content)
    assert served.version == recorded.version and not served.bozo
    assert [e.get("id") for e in served.entries] == [e.get("id") for e in recorded.entries]
    assert [e.get("title") for e in served.entries] == [e.get("title") for e in recorded.entries]
    assert response.headers["etag"] and response.headers["last-modified"]
    assert "xml" in response.headers["content-type"]


@pytest.mark.parametrize("file", FEED_FILES)
async def test_an_added_entry_is_written_in_the_feeds_own_format(
    client: httpx.AsyncClient, file: str
) -> None:
    name = file.rsplit(".", 1)[0]
    before = parse_feed((await client.get(f"/feeds/{name}")).content).entries
    added = await client.post(
        f"/_fakefeed/feeds/{name}/entries",
        json={"title": "Ünïcode & “friends”", "summary": "s", "author": "Ann"},
    )
    assert added.status_code == 201
    body = added.json()
    entries = parse_feed((await client.get(f"/feeds/{name}")).content).entries
    assert len(entries) == len(before) + 1
    new = entries[0]
    assert new.id == body["id"] and new.link == body["link"]
    assert new.title == "Ünïcode & “friends”" and new.published == body["published"]
    assert entries[1:] == before


async def test_validators_give_304s_and_move_with_every_change(client: httpx.AsyncClient) -> None:
    first = await client.get("/feeds/narro")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert (await client.get("/feeds/narro", headers={"If-None-Match": etag})).status_code == 304
    since = {"If-Modified-Since": modified}
    assert (await client.get("/feeds/narro", headers=since)).status_code == 304
    # If-None-Match decides when both are sent
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert (await client.get("/feeds/narro", headers=both)).status_code == 200
    moved = (await client.post("/_fakefeed/feeds/narro/etag")).json()
    assert moved["etag"] != etag and moved["lastModified"] != modified
    assert (await client.get("/feeds/narro", headers={"If-None-Match": etag})).status_code == 200
    assert (await client.get("/feeds/narro", headers=since)).status_code == 200
    counts = (await client.get("/_fakefeed/requests")).json()
    assert counts == {"total": 6, "feeds": {"narro": {"total": 6, "ok": 4, "notModified": 2}}}


async def test_churn_renews_every_id_and_keeps_every_link(client: httpx.AsyncClient) -> None:
    before = parse_feed((await client.get("/feeds/heise")).content).entries
    assert (await client.post("/_fakefeed/feeds/heise/churn")).json()["entries"] == len(before)
    after = parse_feed((await client.get("/feeds/heise")).content).entries
    assert [e.link for e in after] == [e.link for e in before]
    assert all(a.id != b.id for a, b in zip(after, before, strict=True))


async def test_faults_take_their_turn_and_are_counted(client: httpx.AsyncClient) -> None:
    fault = {"mode": "rate_limited", "count": 2, "retryAfter": 7, "feed": "reddit"}
    assert (await client.post("/_fakefeed/faults", json=fault)).status_code == 201
    assert (await client.get("/feeds/guardian")).status_code == 200  # another feed
    for _ in range(2):
        limited = await client.get("/feeds/reddit")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert (await client.get("/feeds/reddit")).status_code == 200
    for mode, status, kind in [
        ("not_modified", 304, None),
        ("server_error", 500, None),
        ("html", 200, "text/html"),
        ("garbage", 200, "xml"),
        ("redirect_loop", 302, None),
    ]:
        await client.post("/_fakefeed/faults", json={"mode": mode})
        answer = await client.get("/feeds/reddit")
        assert answer.status_code == status, mode
        if kind:
            assert kind in answer.headers["content-type"]
    loop = await client.get("/_fakefeed/loop/reddit")
    assert loop.status_code == 302 and loop.headers["location"] == "/_fakefeed/loop/reddit"
    bad = await client.post("/_fakefeed/faults", json={"mode": "status"})
    assert bad.status_code == 422  # a status fault needs its status
    counts = (await client.get("/_fakefeed/requests")).json()["feeds"]["reddit"]
    assert counts == {"total": 8, "faults": 7, "ok": 1}
    assert (await client.post("/_fakefeed/reset")).json() == {"reset": True}
    assert (await client.get("/_fakefeed/requests")).json() == {"total": 0, "feeds": {}}


async def test_an_oversized_body_streams_past_any_cap(client: httpx.AsyncClient) -> None:
    await client.post("/_fakefeed/faults", json={"mode": "oversized", "bytes": 300_000})
    answer = await client.get("/feeds/narro")
    assert len(answer.content) > 300_000 and "content-length" not in answer.headers


async def test_created_feeds_and_a_window_limit(client: httpx.AsyncClient) -> None:
    created = await client.post("/_fakefeed/feeds", json={"name": "mine", "format": "atom"})
    assert created.status_code == 201 and created.json()["entries"] == 0
    assert parse_feed((await client.get("/feeds/mine")).content).entries == []
    await client.put("/_fakefeed/feeds/mine/settings", json={"limit": 2})
    for i in range(4):
        await client.post("/_fakefeed/feeds/mine/entries", json={"title": f"e{i}"})
    titles = [e.title for e in parse_feed((await client.get("/feeds/mine")).content).entries]
    assert titles == ["e3", "e2"]
    assert (await client.post("/_fakefeed/feeds", json={"name": "mine"})).status_code == 409
    assert (await client.get("/feeds/nope")).status_code == 404


def test_a_file_that_is_not_a_feed_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "page.rss").write_bytes(b"<html><body>no</body></html>")
    with pytest.raises(ValueError, match=r"page\.rss"):
        load_folder(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="no </channel>"):
        FeedDoc.load("cut", b'<rss version="2.0"><channel><title>x</title>')


def test_the_default_fixtures_are_found_via_the_environment(
    monkeypatch: pytest.MonkeyPatch, feeds: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("HERALD_FIXTURES", str(feeds.parent))
    assert default_fixtures() == feeds
    monkeypatch.setenv("HERALD_FIXTURES", str(tmp_path))  # nothing there: the shared folder
    found = default_fixtures()
    assert found is None or (found / "guardian.rss").is_file()
