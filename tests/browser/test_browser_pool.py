"""The pool's limits, retirement, idle close, restart after a kill -9, per-account
contexts and blocked media, on real Chromium. Each test has its own small pool."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from herald.browser import BrowserPool, PoolLimits, Session
from herald.errors import FetchTimeout
from tests.servers import serve_asgi
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

PAGE = """<!doctype html><title>site</title><body>
<img src="/pic.png"><video src="/clip.mp4"></video>
<style>@font-face{font-family:F;src:url(/font.woff2)} body{font-family:F}</style>
<p id="t">text</p><script>fetch("/data.json").then(r => r.text()).then(t => {
  document.body.dataset.data = t; })</script></body>"""
SECRET_A = "cookieA0123456789abcdef0123456789abcdefa"
SECRET_B = "cookieB0123456789abcdef0123456789abcdefb"


@asynccontextmanager
async def site() -> AsyncIterator[tuple[str, Counter[str]]]:
    """A local site counting what each path was asked; ``/cookies`` shows the request's."""
    hits: Counter[str] = Counter()

    async def anything(request: Request) -> Response:
        hits[request.url.path] += 1
        if request.url.path == "/":
            return HTMLResponse(PAGE)
        if request.url.path == "/cookies":
            return HTMLResponse(f"<pre id='c'>{request.headers.get('cookie', '')}</pre>")
        return Response(b"{}", media_type="application/json")

    app = Starlette(routes=[Route("/{path:path}", anything)])
    async with serve_asgi(app, ws="none") as url:
        yield url, hits


@asynccontextmanager
async def make_pool(
    chromium: str, driver: Playwright, **limits: float
) -> AsyncIterator[BrowserPool]:
    pool = BrowserPool(PoolLimits(**limits), chromium=chromium, playwright=driver)  # type: ignore[arg-type]
    try:
        yield pool
    finally:
        await pool.close_all()
    assert pool.status()["browsers"] == []


async def test_limits_browsers_and_pages_then_wait_for_a_free_slot(
    chromium: str, driver: Playwright
) -> None:
    async with make_pool(
        chromium, driver, browsers=2, pages_per_browser=2, acquire_timeout=0.5
    ) as pool:
        pages = []
        for _ in range(4):
            browser = await pool.acquire_browser()
            pages.append(await pool.acquire_page(browser))
            await pool.release_browser(browser)
        status = pool.status()
        assert [b["pages"] for b in status["browsers"]] == [2, 2] and status["pages"] == 4
        assert status["launched"] == 2
        with pytest.raises(FetchTimeout, match="no browser page free"):
            await pool.acquire_browser()  # 2 x 2 pages, all taken
        waiter = asyncio.create_task(pool.acquire_browser())
        await wait_until(lambda: pool.status()["waiting"] == 1, 5, what="a waiting acquire")
        await pool.release_page(pages.pop())
        got = await asyncio.wait_for(waiter, 5)
        assert pool.status()["launched"] == 2  # the freed slot, not a third browser
        pages.append(await pool.acquire_page(got))
        await pool.release_browser(got)
        for page in pages:
            await pool.release_page(page)
        assert pool.status()["pages"] == 0 and pool.status()["pagesServed"] == 5


async def test_a_browser_retires_after_n_pages(chromium: str, driver: Playwright) -> None:
    async with make_pool(chromium, driver, retire_after=2) as pool:
        first = None
        for _ in range(2):
            async with pool.page() as page:
                first = first or page.owner
                assert page.owner is first
        assert pool.status()["retired"] == 1 and pool.status()["browsers"] == []
        assert not first.alive  # closed once its last page was released
        async with pool.page() as page:
            assert page.owner is not first
            assert await page.page.evaluate("1 + 1") == 2
        assert pool.status()["launched"] == 2


async def test_an_idle_browser_is_closed(chromium: str, driver: Playwright) -> None:
    async with make_pool(chromium, driver, idle_seconds=0.3) as pool:
        async with pool.page() as page:
            held = page.owner
            await asyncio.sleep(0)  # (no wait on the clock: the page is simply in use)
        await wait_until(lambda: pool.status()["idleClosed"] == 1, 10, what="idle close")
        assert pool.status()["browsers"] == [] and not held.alive
        async with pool.page() as page:  # and the pool starts again on demand
            assert await page.page.evaluate("2 * 3") == 6


async def test_a_killed_browser_is_replaced_on_the_next_acquire(
    chromium: str, driver: Playwright
) -> None:
    async with site() as (url, hits), make_pool(chromium, driver) as pool:
        async with pool.page() as page:
            await page.page.goto(url + "/")
        pid = pool.status()["browsers"][0]["pid"]
        assert isinstance(pid, int)
        os.kill(pid, signal.SIGKILL)
        await wait_until(lambda: pool.status()["disconnects"] == 1, 10, what="disconnect seen")
        assert pool.status()["browsers"] == []
        async with pool.page() as page:
            await page.page.goto(url + "/")
            assert await page.page.text_content("#t") == "text"
        status = pool.status()
        assert status["restarts"] == 1 and status["launched"] == 2
        assert status["browsers"][0]["pid"] not in (None, pid)
        assert hits["/"] == 2


async def test_killed_mid_page_fails_that_page_only(chromium: str, driver: Playwright) -> None:
    async with site() as (url, _), make_pool(chromium, driver) as pool:
        async with pool.page() as page:
            await page.page.goto(url + "/")
            os.kill(pool.status()["browsers"][0]["pid"], signal.SIGKILL)
            with pytest.raises(Exception, match=r"(?i)closed|crash|disconnect"):
                await page.page.goto(url + "/again")
        assert pool.status()["pages"] == 0
        async with pool.page() as page:
            await page.page.goto(url + "/")


async def test_one_context_per_account_with_its_cookie_and_no_leak(
    chromium: str, driver: Playwright, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with site() as (url, _), make_pool(chromium, driver) as pool:
        a = Session("acct-a", {"auth_token": SECRET_A}, url)
        b = Session("acct-b", {"auth_token": SECRET_B}, url)
        seen = {}
        for session in (a, b, a):
            async with pool.page(session) as page:
                await page.page.goto(url + "/cookies")
                seen.setdefault(session.key, set()).add(await page.page.text_content("#c"))
        assert seen == {"acct-a": {f"auth_token={SECRET_A}"}, "acct-b": {f"auth_token={SECRET_B}"}}
        status = pool.status()
        assert status["browsers"][0]["contexts"] == 2  # a's context was reused
        rotated = Session("acct-a", {"auth_token": SECRET_B + "x"}, url)
        async with pool.page(rotated) as page:  # a new cookie: a new jar, the old one gone
            await page.page.goto(url + "/cookies")
            assert await page.page.text_content("#c") == f"auth_token={SECRET_B}x"
        text = repr(pool.status()) + repr(a) + caplog.text
        assert SECRET_A not in text and SECRET_B not in text


async def test_images_media_and_fonts_are_blocked(chromium: str, driver: Playwright) -> None:
    async with site() as (url, hits), make_pool(chromium, driver) as pool:
        async with pool.page() as page:
            await page.page.goto(url + "/", wait_until="load")
            await page.page.wait_for_function("document.body.dataset.data === '{}'")
        assert hits["/"] == 1 and hits["/data.json"] == 1  # scripts' requests go through
        assert hits["/pic.png"] == 0 and hits["/clip.mp4"] == 0 and hits["/font.woff2"] == 0
        assert pool.status()["blocked"] >= 2


async def test_off_or_without_chromium_is_a_clear_error() -> None:
    from herald.errors import BrowserUnavailable

    for pool in (BrowserPool(chromium=None), BrowserPool(chromium="/bin/true", enabled=False)):
        with pytest.raises(BrowserUnavailable, match="HERALD_BROWSER"):
            await pool.acquire_browser()
        assert pool.status()["browsers"] == []
