"""The dashboard reads the stream-type catalog: the type picker, the target field that
follows the chosen type, and feed items rendered by payload key (a test-only platform's
``post`` beside X's tweets)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis
from playwright.async_api import Page, expect

from herald.sources import catalog
from herald.sources.catalog import stream_types
from herald.sources.memory import MemorySource
from tests.dashboard.dash_support import DashServer, make_settings, wait_polled
from tests.platforms import demo

pytestmark = pytest.mark.browser


@pytest.fixture
async def dash(external_redis: aioredis.Redis, key_prefix: str) -> AsyncIterator[DashServer]:
    """The dashboard's server with X's in-memory source and the demo platform."""
    demo.WORLD.boxes.clear()
    with catalog.platform(demo):
        server = DashServer(make_settings(key_prefix), MemorySource(), demo.DemoSource(demo.WORLD))
        await server.start()
        try:
            yield server
        finally:
            await server.stop()


async def test_type_picker_lists_the_catalog_and_the_target_follows(
    page: Page, dash: DashServer
) -> None:
    picker = page.locator("#f-type")
    assert dash.herald is not None
    served = set(dash.herald.sources.stream_types)  # the picker offers what the server serves
    names = [t.name for t in stream_types() if t.name in served]
    await expect(picker.locator("option")).to_have_count(len(names))
    assert await picker.locator("option").evaluate_all("os => os.map(o => o.value)") == names
    target = page.locator("#f-username")
    await expect(page.locator("#l-username")).to_have_text("Username")
    await expect(target).to_have_attribute("placeholder", "XDevelopers")

    await picker.select_option("demo:thing")
    await expect(page.locator("#l-username")).to_have_text("Box")
    await expect(target).to_have_attribute("placeholder", "attic")
    await expect(page.locator("#h-username")).to_have_text("a box name: 1-20 lowercase letters")
    await target.fill("Attic!")
    await page.get_by_role("button", name="Start", exact=True).click()
    await expect(page.locator("#e-username")).to_have_text(
        "Expected a box name: 1-20 lowercase letters."
    )
    assert await dash.manager.list_streams() == []

    await target.fill("attic")
    await page.get_by_role("button", name="Start", exact=True).click()
    row = page.locator("#streams-body tr", has_text="demo:thing")
    await expect(row).to_contain_text("attic")
    [stream] = await dash.manager.list_streams()
    assert (stream["type"], stream["target"], stream["platform"]) == ("demo:thing", "attic", "demo")


async def test_feed_renders_items_by_payload_key(
    page: Page, dash: DashServer, api: httpx.AsyncClient
) -> None:
    started = await api.post("/api/streams/start", json={"type": "demo:thing", "target": "shed"})
    sid = started.json()["id"]
    await wait_polled(api, sid)
    tweets = (await api.post("/api/streams/start", json={"type": "tweet", "target": "kim"})).json()
    await wait_polled(api, tweets["id"])

    demo.WORLD.add("shed", "a <b>rake</b>", author="zoe")
    dash.source.post("kim", "a tweet")
    assert (await api.post(f"/api/streams/{sid}/poll")).json()["events"] == 1
    assert (await api.post(f"/api/streams/{tweets['id']}/poll")).json()["events"] == 1

    item = page.locator("#feed li.ev-post")
    await expect(item).to_contain_text("a <b>rake</b>")  # text, never markup
    assert await item.locator("b").count() == 0
    await expect(item.locator(".kind")).to_have_text("Post")
    await expect(item).to_contain_text("@zoe")
    await expect(page.locator("#feed li.ev-tweet")).to_contain_text("a tweet")

    groups = page.locator("#filter-type option")
    values = await groups.evaluate_all("os => os.map(o => o.value)")
    assert {"tweet", "follower", "mention", "post", "error", "gap", "lifecycle"} <= set(values)
    await page.locator("#filter-type").select_option("post")
    await expect(page.locator("#feed li.ev-post")).to_have_count(1)
    await expect(page.locator("#feed li:not(.ev-post)")).to_have_count(0)
