"""Phone width, keyboard use, colour schemes, and the screenshots in docs/img/."""

from __future__ import annotations

import dataclasses
import os
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Page, expect

from herald.errors import UpstreamError
from herald.events import Event, EventType
from tests.conftest import REPO_ROOT
from tests.dashboard.dash_support import DashServer, OpenPage, wait_polled
from tests.waiting import wait_until


async def _polls_above(api: httpx.AsyncClient, stream_id: str, count: int) -> bool:
    return int((await api.get(f"/api/streams/{stream_id}")).json()["polls"]) > count


pytestmark = pytest.mark.browser


async def start(api: httpx.AsyncClient, type_: str, username: str, interval: int = 60) -> str:
    body = {"type": type_, "username": username, "interval": interval}
    response = await api.post("/api/streams/start", json=body)
    assert response.status_code == 201, response.text
    stream_id = str(response.json()["id"])
    await wait_polled(api, stream_id)
    return stream_id


async def test_phone_width_shows_cards_without_horizontal_scroll(
    open_page: OpenPage, dash: DashServer, api: httpx.AsyncClient
) -> None:
    stream_id = await start(api, "tweet", "a_fifteen_chars")
    dash.source.post("a_fifteen_chars", "x" * 400)  # one long unbroken word
    await api.post(f"/api/streams/{stream_id}/poll")

    page = await open_page(width=375, height=740, is_mobile=True, has_touch=True)
    await expect(page.locator("#feed li.ev-tweet")).to_have_count(1)
    row = page.locator(f'tr[data-id="{stream_id}"]')
    await expect(row).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await expect(page.locator("thead")).not_to_be_in_viewport()
    for name in ("Pause", "Poll", "Stop"):
        button = row.get_by_role("button", name=name)
        box = await button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
        assert box["height"] >= 32, f"{name} is too small to tap: {box}"


async def test_keyboard_only_start_with_visible_focus(page: Page, dash: DashServer) -> None:
    await expect(page.locator("#connection")).to_have_text("live")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to the live feed")).to_be_focused()
    await page.keyboard.press("Tab")
    username = page.get_by_label("Username")
    await expect(username).to_be_focused()
    await page.keyboard.type("@peggy")
    await page.keyboard.press("Tab")
    await expect(page.locator("#f-type")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Interval (s)")).to_be_focused()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    start = page.get_by_role("button", name="Start", exact=True)
    await expect(start).to_be_focused()
    outline = await start.evaluate("b => getComputedStyle(b).outlineStyle")
    assert outline != "none"
    await page.keyboard.press("Enter")
    await expect(page.locator("#streams-body")).to_contain_text("@peggy")
    [stream] = await dash.manager.list_streams()
    assert stream["username"] == "peggy"
    # The feed announces additions politely to screen readers.
    await expect(page.locator("#feed")).to_have_attribute("aria-live", "polite")


async def test_follows_the_dark_colour_scheme(open_page: OpenPage) -> None:
    backgrounds = []
    for scheme in ("light", "dark"):
        page = await open_page(color_scheme=scheme)
        backgrounds.append(await page.evaluate("getComputedStyle(document.body).backgroundColor"))
    light, dark = (
        sum(int(c) for c in bg[bg.index("(") + 1 : -1].split(",")[:3]) for bg in backgrounds
    )
    assert light > 600 and dark < 150, backgrounds


# --- screenshots for the docs ----------------------------------------------------------


def _now(minutes_ago: float = 0) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes_ago)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _post(dash: DashServer, username: str, text: str) -> None:
    """Post a tweet stamped now (the in-memory source stamps a fixed date)."""
    tweet = dash.source.post(username, text)
    fresh = dataclasses.replace(tweet, timestamp=_iso(_now()))
    for account in dash.source._accounts.values():  # demo data: reach into the fake
        for bucket in (account.posts, account.mentions):
            if tweet in bucket:
                bucket[bucket.index(tweet)] = fresh


async def _backfill(dash: DashServer, stream_id: str, username: str) -> None:
    """Events spread over the last half hour, so the per-minute chart has a shape."""
    rng = random.Random(7)
    events = []
    lines = [
        "Status page: all systems operational.",
        "New post on the blog: how we keep event ids stable across retries.",
        "Thanks for 10k followers!",
        "Reminder: the community call starts in 30 minutes.",
    ]
    for i in range(60):
        moment = _iso(_now(rng.triangular(0.5, 29.5, 6)))
        tweet = {
            "id": f"17{i:04d}",
            "text": lines[i % len(lines)],
            "author": username,
            "authorName": "Herald News",
            "timestamp": moment,
            "url": f"https://x.com/{username}/status/17{i:04d}",
        }
        events.append(
            Event(
                EventType.TWEET_NEW,
                stream_id,
                username,
                tweet["id"],
                {"tweet": tweet},
                detected_at=moment,
            )
        )
    events.sort(key=lambda e: e.detected_at)
    assert dash.herald is not None
    await dash.herald.log.append(stream_id, events)


async def _backfill_trends(dash: DashServer, stream_id: str, username: str) -> None:
    """Scored posts over the last ten minutes, so the trends and the top words have a shape."""
    rng = random.Random(11)
    lines = [
        ("Loving the new #release: the dashboard is so fast", 0.82),
        ("Follower diffs are instant now #release #opensource", 0.64),
        ("Is the API down? Seeing errors on #status", -0.55),
        ("Community call notes are up #community", 0.31),
        ("Docs for webhooks are clear, thanks #opensource", 0.58),
        ("Slow responses this morning #status", -0.42),
    ]
    events = []
    for i in range(90):
        moment = _iso(_now(rng.uniform(0.05, 9.9)))
        text, score = lines[i % len(lines)]
        compound = max(-1.0, min(1.0, score + rng.uniform(-0.2, 0.2)))
        label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        tid = f"18{i:04d}"
        tweet = {
            "id": tid,
            "text": text,
            "author": username,
            "authorName": "Herald News",
            "timestamp": moment,
            "url": f"https://x.com/{username}/status/{tid}",
            "sentiment": {"compound": round(compound, 3), "label": label},
        }
        events.append(
            Event(
                EventType.TWEET_NEW, stream_id, username, tid, {"tweet": tweet}, detected_at=moment
            )
        )
    events.sort(key=lambda e: e.detected_at)
    assert dash.herald is not None
    await dash.herald.log.append(stream_id, events)
    delta = {"likes": 48, "retweets": 9, "replies": 4}
    metrics = Event(
        EventType.TWEET_METRICS,
        stream_id,
        username,
        "180001:1",
        {"tweet": {"id": "180001"}, "metrics": delta, "previous": {}, "delta": delta},
    )
    await dash.herald.log.append(stream_id, [metrics])


async def _alerts(dash: DashServer) -> None:
    assert dash.herald is not None
    for kind, rule, fingerprint, value, threshold in (
        (EventType.ALERT_FIRING, "volume-spike", "a1", 42, 30),
        (EventType.ALERT_FIRING, "negative-sentiment", "a2", -0.48, -0.4),
        (EventType.ALERT_RESOLVED, "negative-sentiment", "a2", -0.12, -0.4),
        (EventType.ALERT_FIRING, "keyword-outage", "a3", 3, 1),
    ):
        state = "firing" if kind is EventType.ALERT_FIRING else "resolved"
        body = {
            "ruleId": rule,
            "fingerprint": fingerprint,
            "state": state,
            "value": value,
            "threshold": threshold,
            "window": 300,
            "labels": {"stream": "herald_news"},
            "samples": [],
            "startsAt": _iso(_now(3)),
        }
        event = Event(
            kind, "alerts", "", f"{fingerprint}:{state}", {"alert": body, "channel": "ops"}
        )
        await dash.herald.log.append("alerts", [event])


@pytest.mark.skipif(
    os.environ.get("HERALD_SCREENSHOTS") != "1", reason="set HERALD_SCREENSHOTS=1 to refresh"
)
async def test_write_screenshots(
    open_page: OpenPage, dash: DashServer, api: httpx.AsyncClient
) -> None:
    out = REPO_ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    news = await start(api, "tweet", "herald_news", 30)
    mentions = await start(api, "mention", "herald_news", 60)
    followers = await start(api, "follower", "opensky", 120)
    paused = await start(api, "tweet", "cityweather", 300)
    await _backfill(dash, news, "herald_news")

    page = await open_page()
    await expect(page.locator("#connection")).to_have_text("live")
    poll_now = page.get_by_role("button", name="Poll @herald_news tweet stream now")
    texts = [
        "Release 2.3 is out: faster follower diffs and a new dashboard.",
        "Tip: streams resume from their last offset after a restart.",
        "Maintenance window tonight 22:00-22:15 UTC. No events will be lost.",
    ]
    for i, text in enumerate(texts):
        dash.source.delay = 0.08 + 0.05 * (i % 3)
        _post(dash, "herald_news", text)
        await poll_now.click()
        await expect(page.locator("#feed")).to_contain_text(text)
    for delay in (0.12, 0.09, 0.2, 0.1):
        dash.source.delay = delay
        done = (await api.get(f"/api/streams/{news}")).json()["polls"]
        await poll_now.click()
        await wait_until(  # that poll has finished before the next click
            lambda done=done: _polls_above(api, news, done), 10, what="the poll"
        )
    dash.source.delay = 0
    _post(dash, "sam_reads", "Trying @herald_news on a phone: the feed is instant.")
    await api.post(f"/api/streams/{mentions}/poll")
    dash.source.follow("opensky", "data_dora")
    dash.source.follow("opensky", "quinn_builds")
    await api.post(f"/api/streams/{followers}/poll")
    dash.source.fail_next(UpstreamError("x.com answered 503 Service Unavailable"), times=2)
    await api.post(f"/api/streams/{followers}/poll")
    await api.post(f"/api/streams/{followers}/poll")
    await api.post(f"/api/streams/{paused}/pause")
    await expect(page.locator("#feed li.ev-error")).to_have_count(2)
    await expect(page.locator("#toast")).to_be_hidden(timeout=6000)
    await expect(page.locator(f'tr[data-id="{followers}"] .reason')).to_contain_text("503")
    await _backfill_trends(dash, news, "herald_news")
    await _alerts(dash)
    await expect(page.locator("#alerts-firing li")).to_have_count(2)
    await expect(page.locator("#presence")).to_have_text("1 watching")
    await expect(page.locator("#top-hashtags li[data-token]")).to_have_count(4)

    # One page for every view: the latency it measured stays on its sparkline.
    await page.screenshot(path=str(out / "dashboard-desktop.png"))
    await page.locator(".insights").screenshot(path=str(out / "dashboard-trends.png"))
    await page.emulate_media(color_scheme="dark")
    await page.screenshot(path=str(out / "dashboard-desktop-dark.png"))
    await page.emulate_media(color_scheme="light")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(out / "dashboard-phone.png"))
    await page.evaluate("window.scrollTo(0, document.querySelector('.feed').offsetTop - 8)")
    await page.screenshot(path=str(out / "dashboard-phone-feed.png"))
