"""KPIs, the sentiment and volume trends and the top keywords, from live events."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.dashboard.dash_support import DashServer, OpenPage, wait_polled
from tests.dashboard.events_support import append, metrics, tweet

pytestmark = pytest.mark.browser

MINUS = "\u2212"  # the page writes negative figures with a real minus sign


async def start(api: httpx.AsyncClient, username: str) -> str:
    response = await api.post("/api/streams/start", json={"type": "tweet", "username": username})
    assert response.status_code == 201, response.text
    stream_id = str(response.json()["id"])
    await wait_polled(api, stream_id)
    return stream_id


async def test_kpis_trends_and_topics_follow_live_posts(
    page: Page, dash: DashServer, api: httpx.AsyncClient
) -> None:
    ann = await start(api, "ann")
    bob = await start(api, "bob")
    await expect(page.locator("#connection")).to_have_text("live")
    await expect(page.locator("#kpi-posts .kpi-value")).to_have_text("0")
    await expect(page.locator("#kpi-sentiment .kpi-value")).to_have_text("—")

    await append(
        dash,
        ann,
        *(tweet(ann, "ann", f"Great #launch of the rocket today {i}", 0.8) for i in range(3)),
    )
    await append(
        dash,
        bob,
        tweet(bob, "bob", "Servers down again #outage #outage", -0.6),
        tweet(bob, "bob", "Still down. #outage rocket", -0.6),
        tweet(bob, "bob", "Ceci n'est pas scoré", None, lang="fr"),  # no score, not a 0
    )
    await expect(page.locator("#kpi-posts .kpi-value")).to_have_text("6")
    # (3 * 0.8 - 2 * 0.6) / 5 scored posts; the unscored one is not averaged in as 0.
    sentiment = page.locator("#kpi-sentiment")
    await expect(sentiment.locator(".kpi-value")).to_have_text("+0.24")
    await expect(sentiment).to_have_attribute("data-mood", "positive")
    await expect(sentiment.locator(".kpi-note")).to_contain_text(
        "5 scored in 5 min · 3 positive, 2 negative"
    )
    hashtags = page.locator("#top-hashtags li")
    await expect(hashtags.first).to_have_attribute("data-token", "#launch")  # in 3 posts
    await expect(hashtags.first.locator(".count")).to_have_text("3")
    await expect(hashtags.nth(1)).to_have_attribute("data-token", "#outage")  # 2: once a post
    await expect(hashtags.nth(1).locator(".count")).to_have_text("2")
    words = page.locator("#top-words li")
    await expect(words.first).to_have_attribute("data-token", "rocket")  # in 4 posts
    await expect(page.locator("#top-words")).not_to_contain_text("the")  # a stop word
    volume = page.locator("#volume-chart svg")
    await expect(volume).to_have_attribute(
        "aria-label", "all streams: 6 posts in the last 10 minutes, in 10-second bars"
    )

    # Per stream: the same panel for one stream.
    await page.locator("#insight-scope").select_option(bob)
    await expect(page.locator("#kpi-scope")).to_have_text("@bob (tweet)")
    await expect(page.locator("#kpi-posts .kpi-value")).to_have_text("3")
    await expect(sentiment.locator(".kpi-value")).to_have_text(f"{MINUS}0.60")
    await expect(sentiment).to_have_attribute("data-mood", "negative")
    await expect(page.locator("#sentiment-chart svg")).to_have_attribute(
        "aria-label", f"@bob (tweet): average sentiment per 10 seconds, latest {MINUS}0.60"
    )
    await expect(page.locator("#volume-chart svg")).to_have_attribute(
        "aria-label", "@bob (tweet): 3 posts in the last 10 minutes, in 10-second bars"
    )
    await page.locator("#insight-scope").select_option("")
    await expect(page.locator("#kpi-posts .kpi-value")).to_have_text("6")


async def test_engagement_counts_what_tweets_gained(
    page: Page, dash: DashServer, api: httpx.AsyncClient
) -> None:
    ann = await start(api, "ann")
    await expect(page.locator("#connection")).to_have_text("live")
    await append(dash, ann, metrics(ann, "ann", {"likes": 5, "retweets": 2, "views": 900}))
    await append(dash, ann, metrics(ann, "ann", {"likes": 3, "replies": 1, "views": 50}))
    # Views are not engagement; likes, reposts and replies are.
    await expect(page.locator("#kpi-engagement .kpi-value")).to_have_text("11")
    await expect(page.locator("#kpi-posts .kpi-value")).to_have_text("0")  # no new posts
    item = page.locator('#feed li[data-type="stream:tweet:metrics"]').first
    await expect(item).to_contain_text("+3 likes, +1 replies, +50 views")


async def test_trends_are_filled_from_history_on_load(
    open_page: OpenPage, dash: DashServer, api: httpx.AsyncClient
) -> None:
    ann = await start(api, "ann")
    await append(dash, ann, *(tweet(ann, "ann", "Shipping #herald today", -0.2) for _ in range(4)))
    page = await open_page()
    await expect(page.locator("#kpi-posts .kpi-value")).to_have_text("4")
    await expect(page.locator("#kpi-sentiment .kpi-value")).to_have_text(f"{MINUS}0.20")
    await expect(page.locator("#top-hashtags li").first).to_have_attribute("data-token", "#herald")


async def test_posts_scored_by_herald_itself_move_the_sentiment(
    page: Page, dash: DashServer, api: httpx.AsyncClient
) -> None:
    """Through the real path: a polled tweet is scored at ingest and the page averages it."""
    ann = await start(api, "ann")
    await expect(page.locator("#connection")).to_have_text("live")
    dash.source.post("ann", "I love this release, it is wonderful and fast! #herald")
    response = await api.post(f"/api/streams/{ann}/poll")
    assert response.json()["events"] == 1
    [event] = (await api.get(f"/api/streams/{ann}/history?limit=1")).json()["events"]
    compound = event["tweet"]["sentiment"]["compound"]
    assert compound > 0.5, event["tweet"]
    sentiment = page.locator("#kpi-sentiment")
    await expect(sentiment.locator(".kpi-value")).to_have_text(f"+{compound:.2f}")
    await expect(sentiment).to_have_attribute("data-mood", "positive")
    await expect(page.locator("#kpi-posts .kpi-value")).to_have_text("1")
