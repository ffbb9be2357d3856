"""The browser tests: Debian's Chromium driven by Playwright (never a downloaded browser).

Without Chromium they skip, and fail under CI=true (``make browser`` installs it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Playwright, async_playwright

from herald.browser import find_chromium
from herald.config import Settings
from tests.conftest import need


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium(Settings())
    need(path is not None, "Debian chromium is not installed (make browser)")
    assert path is not None
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def driver(chromium: str) -> AsyncIterator[Playwright]:
    """One Playwright driver per module (starting one takes seconds): the module's tests
    run on the module's event loop and hand it to their pools."""
    async with async_playwright() as started:
        yield started
