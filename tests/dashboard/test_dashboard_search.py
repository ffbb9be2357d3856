"""The dashboard's archive search box, in real Chromium against a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Page, expect

from herald.archive.records import record_of
from herald.sources.memory import MemorySource
from tests.archive.archive_support import body
from tests.dashboard.dash_support import DashServer, make_settings

pytestmark = pytest.mark.browser
XSS = '<img src=x onerror="window.__pwned=1"> needle in markup'


@pytest.fixture
async def dash(
    external_redis: aioredis.Redis,
    key_prefix: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[DashServer]:
    """A server with a SQLite archive holding 25 needles (one with markup in its text);
    ``@pytest.mark.herald(archive_url="off")`` runs it without an archive."""
    marker = request.node.get_closest_marker("herald")
    overrides = {
        "archive_url": f"sqlite:///{tmp_path}/archive.db",
        "archive_retention_days": 0,
        **(marker.kwargs if marker else {}),
    }
    server = DashServer(make_settings(key_prefix, **overrides), MemorySource())
    await server.start()
    try:
        archive = server.herald.archive if server.herald else None
        if archive is not None:
            needles = [record_of(body(i, f"needle number {i}")) for i in range(24)]
            await archive.insert_many([*needles, record_of(body(99, XSS))])
        yield server
    finally:
        await server.stop()


async def test_search_shows_highlighted_hits_and_pages(page: Page) -> None:
    await page.fill("#search-q", "needle")
    await page.click("#search-form button[type=submit]")
    hits = page.locator("#search-results li.search-hit")
    await expect(hits).to_have_count(20)
    await expect(hits.first.locator("mark")).to_have_text("needle")
    await expect(page.locator("#search-status")).to_have_text("20 results so far")
    # the markup in an event's text is shown as text, never run
    first = hits.first
    await expect(first).to_have_attribute("data-event-id", "item:99@s1")
    await expect(first.locator(".search-text")).to_contain_text(
        '<img src=x onerror="window.__pwned=1">'
    )
    assert await page.evaluate("window.__pwned") is None
    assert await first.locator("img").count() == 0

    await page.click("#search-more")
    await expect(hits).to_have_count(25)
    await expect(page.locator("#search-more")).to_be_hidden()
    await expect(page.locator("#search-status")).to_have_text("25 results")

    await page.fill("#search-q", '"number 7"')
    await page.press("#search-q", "Enter")
    await expect(hits).to_have_count(1)
    await expect(hits.first).to_have_attribute("data-event-id", "item:7@s1")
    await expect(hits.first.locator("mark").first).to_contain_text("number")


@pytest.mark.herald(archive_url="off")
async def test_search_says_when_the_archive_is_off(page: Page) -> None:
    await page.fill("#search-q", "anything")
    await page.click("#search-form button[type=submit]")
    await expect(page.locator("#search-note")).to_contain_text("the archive is off")
    await expect(page.locator("#search-results li")).to_have_count(0)
