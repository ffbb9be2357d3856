"""The Playwright browser pool, and reading X through a page (the X source's fallback)."""

from __future__ import annotations

from herald.browser.chromium import browser_enabled, find_chromium
from herald.browser.pool import BrowserPool, PooledBrowser, PooledPage, PoolLimits, Session

__all__ = [
    "BrowserPool",
    "PoolLimits",
    "PooledBrowser",
    "PooledPage",
    "Session",
    "browser_enabled",
    "find_chromium",
]
