"""Kill the server under an open page, bring it back on the same port, and catch up."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.async_api import Page, WebSocket, expect

from tests.dashboard.dash_support import DashServer, wait_polled

pytestmark = pytest.mark.browser


async def test_page_goes_offline_then_reconnects_and_catches_up(
    page: Page, dash: DashServer, api: httpx.AsyncClient
) -> None:
    requests: list[dict[str, object]] = []

    def on_socket(ws: WebSocket) -> None:
        ws.on("framesent", lambda frame: requests.append(json.loads(frame)))

    page.on("websocket", on_socket)
    await page.reload()  # so the listener sees the first connection too
    connection = page.locator("#connection")
    await expect(connection).to_have_text("live")

    stream_id = (
        await api.post("/api/streams/start", json={"type": "tweet", "username": "niaj"})
    ).json()["id"]
    await wait_polled(api, stream_id)
    dash.source.post("niaj", "before the restart")
    await api.post(f"/api/streams/{stream_id}/poll")
    feed = page.locator("#feed li.ev-tweet")
    await expect(feed).to_have_count(1)
    before = await page.evaluate("sessionStorage.getItem('herald.offset')")
    assert before

    await dash.stop()
    await expect(connection).to_contain_text("offline")
    await expect(page.get_by_role("button", name="Retry now")).to_be_visible()

    # While nothing listens on the port, the engine records a new event in the log.
    herald = await dash.start_engine()
    dash.source.post("niaj", "while the page was away")
    outcome = await herald.manager.poll_now(stream_id)
    assert outcome["events"] == 1
    await expect(connection).to_contain_text("offline")

    await dash.start_http()  # same port, same Redis prefix
    await expect(connection).to_have_text("live", timeout=12_000)
    await expect(feed.first).to_contain_text("while the page was away")
    await expect(page.get_by_role("button", name="Retry now")).to_be_hidden()

    # The page resumed from its offset rather than starting over.
    subscribe = [r for r in requests if r.get("type") == "events:stream:v1:requested"]
    assert len(subscribe) >= 2
    assert subscribe[-1]["payload"] == {"since": before}

    dash.source.post("niaj", "after the reconnect")
    async with httpx.AsyncClient(base_url=dash.url, timeout=10) as fresh:
        await fresh.post(f"/api/streams/{stream_id}/poll")
    await expect(feed.first).to_contain_text("after the reconnect")
    await expect(feed).to_have_count(3)
