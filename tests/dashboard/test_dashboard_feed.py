"""The live feed: new tweets, errors and follower changes appear without a reload."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from herald.errors import UpstreamError
from tests.dashboard.dash_support import DashServer, OpenPage, wait_polled

pytestmark = pytest.mark.browser

HOSTILE = 'hi <img src=x onerror="window.pwned=1"> <b>bold</b> & more'


async def start(api: httpx.AsyncClient, type_: str, username: str) -> str:
    response = await api.post("/api/streams/start", json={"type": type_, "username": username})
    assert response.status_code == 201, response.text
    stream_id = str(response.json()["id"])
    await wait_polled(api, stream_id)  # the baseline poll emits nothing
    return stream_id


async def poll(api: httpx.AsyncClient, stream_id: str) -> dict[str, object]:
    response = await api.post(f"/api/streams/{stream_id}/poll")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_posted_tweet_appears_live_as_text(
    page: Page, dash: DashServer, api: httpx.AsyncClient
) -> None:
    stream_id = await start(api, "tweet", "grace")
    await expect(page.locator(f'tr[data-id="{stream_id}"]')).to_be_visible()

    tweet = dash.source.post("grace", HOSTILE)
    assert (await poll(api, stream_id))["events"] == 1

    item = page.locator("#feed li.ev-tweet").first
    await expect(item).to_contain_text(HOSTILE)  # the markup shows as text...
    assert await item.locator("img, b").count() == 0  # ...and is never parsed
    assert await page.evaluate("window.pwned") is None
    await expect(item).to_contain_text("Grace")
    await expect(item).to_contain_text("@grace")
    await expect(item.locator("time")).to_have_attribute("datetime", tweet.timestamp)
    link = item.get_by_role("link", name="Open on X")
    await expect(link).to_have_attribute("href", tweet.url)
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    # Newest first: a second tweet goes above the first.
    dash.source.post("grace", "second")
    await poll(api, stream_id)
    await expect(page.locator("#feed li.ev-tweet").first).to_contain_text("second")
    await expect(page.locator("#feed li.ev-tweet").nth(1)).to_contain_text("<b>bold</b>")
    # The per-minute chart counts both.
    await expect(page.locator(f'tr[data-id="{stream_id}"]')).to_contain_text("2 in 30 min")
    # The page was never reloaded: the offset it resumes from moved with the events.
    offset = await page.evaluate("sessionStorage.getItem('herald.offset')")
    history = (await api.get(f"/api/streams/{stream_id}/history?limit=1")).json()
    assert offset == history["events"][0]["offset"]


async def test_errors_mentions_and_followers_are_distinct_and_filterable(
    page: Page, dash: DashServer, api: httpx.AsyncClient
) -> None:
    tweets = await start(api, "tweet", "heidi")
    mentions = await start(api, "mention", "heidi")
    followers = await start(api, "follower", "heidi")

    dash.source.post("ivan", "hello @heidi")
    dash.source.follow("heidi", "judy")
    await poll(api, mentions)
    await poll(api, followers)
    dash.source.fail_next(UpstreamError("upstream answered 503"))  # the next fetch fails
    await poll(api, tweets)
    # The table shows the error reason on the failing stream until a poll succeeds.
    row = page.locator(f'tr[data-id="{tweets}"]')
    await expect(row.locator(".reason")).to_have_text("upstream answered 503 (1 in a row)")
    dash.source.post("heidi", "a tweet")
    await poll(api, tweets)
    await expect(row.locator(".reason")).to_have_count(0)

    feed = page.locator("#feed")
    await expect(feed.locator("li.ev-mention")).to_contain_text("hello @heidi")
    await expect(feed.locator("li.ev-follower").first).to_contain_text("@judy")
    error = feed.locator("li.ev-error")
    await expect(error).to_contain_text("upstream answered 503")
    await expect(error).to_contain_text("1 in a row")
    colors = await page.evaluate(
        """() => ['tweet', 'mention', 'follower', 'error'].map(kind => {
             const node = document.querySelector('#feed li.ev-' + kind);
             return node ? getComputedStyle(node).borderLeftColor : kind + ' missing';
           })"""
    )
    assert len(set(colors)) == 4, colors  # each kind has its own colour

    await page.locator("#filter-type").select_option("follower")
    await expect(feed.locator("li.ev-follower")).not_to_have_count(0)
    await expect(feed.locator("li:not(.ev-follower)")).to_have_count(0)

    await page.locator("#filter-type").select_option("")
    await page.locator("#filter-stream").select_option(mentions)
    await expect(feed.locator("li.ev-mention")).to_have_count(1)
    await expect(feed.locator(f'li:not([data-stream="{mentions}"])')).to_have_count(0)
    await expect(feed.locator("li.ev-tweet")).to_have_count(0)

    await page.locator("#filter-stream").select_option("")
    await expect(feed.locator("li.ev-error")).to_have_count(1)


async def test_feed_and_chart_are_filled_from_history_on_load(
    open_page: OpenPage, dash: DashServer, api: httpx.AsyncClient
) -> None:
    stream_id = await start(api, "tweet", "mallory")
    for text in ("one", "two", "three"):
        dash.source.post("mallory", text)
    assert (await poll(api, stream_id))["events"] == 3

    page = await open_page()
    feed = page.locator("#feed li.ev-tweet")
    await expect(feed).to_have_count(3)
    await expect(feed.first).to_contain_text("three")
    await expect(page.locator(f'tr[data-id="{stream_id}"]')).to_contain_text("3 in 30 min")
