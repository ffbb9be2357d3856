"""The Playwright browser pool, and reading X through a page (the X source's fallback)."""

from __future__ import annotations

from herald.browser.chromium import browser_enabled, find_chromium
from herald.browser.model import PooledBrowser, PooledPage, PoolLimits, Session
from herald.browser.pool import BrowserPool

__all__ = [
    "BrowserPool",
    "PoolLimits",
    "PooledBrowser",
    "PooledPage",
    "Session",
    "browser_enabled",
    "find_chromium",
]
