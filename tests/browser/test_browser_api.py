"""``GET /api/browser-pool``, the pool's metrics and the seed's pool functions in
``herald.streaming``, over a real Chromium; no cookie in any of them."""

from __future__ import annotations

import secrets

import httpx
import pytest

from herald import streaming
from herald.browser import BrowserPool, PoolLimits, Session
from tests.browser.browser_world import browser_world
from tests.servers import serve_herald

pytestmark = pytest.mark.browser
COOKIE = "feedc0ffee0123456789abcdef0123456789abcd"  # made up; must appear nowhere


async def test_pool_status_route_metrics_and_the_seed_functions(chromium: str) -> None:
    pool = BrowserPool(PoolLimits(browsers=1, pages_per_browser=3), chromium=chromium)
    prefix = f"herald-test-{secrets.token_hex(4)}"
    try:
        async with (
            browser_world(pool, prefix) as world,
            serve_herald(world.herald) as url,
            httpx.AsyncClient(base_url=url, timeout=10) as api,
        ):
            await world.control("POST", "/users", json={"username": "ann"})
            idle = (await api.get("/api/browser-pool")).json()
            assert idle["enabled"] is True and idle["browsers"] == [] and idle["pages"] == 0
            assert idle["limits"] == {
                "browsers": 1,
                "pagesPerBrowser": 3,
                "retireAfter": 200,
                "idleSeconds": 300.0,
            }
            streaming.configure(world.herald)
            browser = await streaming.acquire_browser()
            page = await streaming.acquire_page(
                browser, Session("acct", {"auth_token": COOKIE}, str(world.fakex.base_url))
            )
            await streaming.release_browser(browser)
            await page.page.goto(f"{world.fakex.base_url}/ann")
            await page.page.wait_for_function("document.body.dataset.state === 'ready'")
            busy = (await api.get("/api/browser-pool")).json()
            assert busy == await streaming.get_browser_pool_status()
            assert busy["pages"] == 1 and busy["launched"] == 1
            (shown,) = busy["browsers"]
            assert shown["pages"] == 1 and shown["contexts"] == 1 and shown["startedAt"]
            await streaming.release_page(page)
            served = (await api.get("/api/browser-pool")).json()
            assert served["pagesServed"] == 1 and served["pages"] == 0
            metrics = (await api.get("/metrics")).text
            assert "herald_browser_pages_total" in metrics
            assert "herald_browser_browsers 1.0" in metrics
            await streaming.close_all_browsers()
            assert (await api.get("/api/browser-pool")).json()["browsers"] == []
            everything = repr(busy) + repr(served) + metrics
            assert COOKIE not in everything
    finally:
        streaming._default = None  # the module's default Herald was the world's
        await pool.close_all()
