"""The dashboard in real headless Chromium (Debian's chromium), against a real herald server."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from herald.sources.memory import MemorySource
from tests.conftest import need
from tests.dashboard.dash_support import CHROMIUM_ARGS, DashServer, OpenPage, make_settings


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium")
    need(path is not None, "Debian chromium is not installed")
    assert path is not None
    return path


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def dash(
    external_redis: aioredis.Redis, key_prefix: str, request: pytest.FixtureRequest
) -> AsyncIterator[DashServer]:
    """A running server. Settings can be changed with ``@pytest.mark.herald(**settings)``."""
    marker = request.node.get_closest_marker("herald")
    overrides = dict(marker.kwargs) if marker else {}
    server = DashServer(make_settings(key_prefix, **overrides), MemorySource())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def open_page(browser: Browser, dash: DashServer) -> AsyncIterator[OpenPage]:
    """Open the dashboard in a fresh browser context (its own session storage)."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    async def open_(
        width: int = 1280,
        height: int = 800,
        color_scheme: str = "light",
        init_script: str | None = None,
        **options: Any,
    ) -> Page:
        context = await browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme=color_scheme,  # type: ignore[arg-type]
            **options,
        )
        contexts.append(context)
        if init_script is not None:  # runs before the page's own scripts
            await context.add_init_script(init_script)
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(dash.url + "/")
        return page

    try:
        yield open_
    finally:
        for context in contexts:
            await context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
async def page(open_page: OpenPage) -> Page:
    return await open_page()


@pytest.fixture
async def api(dash: DashServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=dash.url, timeout=10) as client:
        yield client


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "herald(**settings): Settings overrides for the server")
