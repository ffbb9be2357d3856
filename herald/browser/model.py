"""What the pool is made of: its limits, a session (an account and its cookies), and the
browsers and pages it hands out. Only counts and ids are ever shown, never a cookie."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from herald.config import Settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page


@dataclass(frozen=True, slots=True)
class PoolLimits:
    browsers: int = 2
    pages_per_browser: int = 4
    retire_after: int = 200
    idle_seconds: float = 300.0
    acquire_timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PoolLimits:
        return cls(
            browsers=settings.browser_max,
            pages_per_browser=settings.browser_pages,
            retire_after=settings.browser_retire_after,
            idle_seconds=settings.browser_idle,
            acquire_timeout=settings.poll_timeout,
        )

    def public(self) -> dict[str, Any]:
        return {
            "browsers": self.browsers,
            "pagesPerBrowser": self.pages_per_browser,
            "retireAfter": self.retire_after,
            "idleSeconds": self.idle_seconds,
        }


@dataclass(frozen=True, slots=True)
class Session:
    """Who a page browses as: an account id (not a secret) and its cookies (secret)."""

    key: str
    cookies: Mapping[str, str] = field(repr=False)
    url: str

    def fingerprint(self) -> str:
        raw = "\n".join(f"{k}={v}" for k, v in sorted(self.cookies.items()))
        return hashlib.sha256(f"{self.url}\n{raw}".encode()).hexdigest()


@dataclass(eq=False)
class PooledBrowser:
    id: str
    browser: Browser
    pid: int | None
    started_at: float
    pages: int = 0
    served: int = 0
    leases: int = 0
    alive: bool = True
    retiring: bool = False
    idle_since: float | None = None
    contexts: dict[str, tuple[str, BrowserContext]] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        started = datetime.fromtimestamp(self.started_at, UTC)
        return {
            "id": self.id,
            "pid": self.pid,
            "pages": self.pages,
            "pagesServed": self.served,
            "contexts": len(self.contexts),
            "retiring": self.retiring,
            "startedAt": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }


@dataclass(eq=False)
class PooledPage:
    page: Page
    owner: PooledBrowser
    account: str | None
    released: bool = False
