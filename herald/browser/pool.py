"""The browser pool: a few headless Chromiums shared by every browser-path poll.

Limits: at most ``browsers`` browsers, ``pages_per_browser`` open pages each; a browser
that has served ``retire_after`` pages takes no more and closes once its last page is
released (a long-lived Chromium grows); a browser with no page for ``idle_seconds`` is
closed. A browser whose process dies (a crash, ``kill -9``) is dropped the moment
Playwright reports the disconnect, and the next acquire launches a fresh one.

One browser context per X account per browser, holding that account's cookies, so
accounts never share a cookie jar; images, media and fonts are blocked in every context.
Nothing here logs or reports a cookie: contexts are known by the account id alone.

The seed's pool API (``acquireBrowser``...) maps onto :meth:`acquire_browser`,
:meth:`release_browser`, :meth:`acquire_page`, :meth:`release_page`, :meth:`close_all`
and :meth:`status`; :meth:`page` is the same as one ``async with``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from herald import metrics
from herald.browser.chromium import ARGS, browser_enabled, browser_pids
from herald.browser.model import PooledBrowser, PooledPage, PoolLimits, Session
from herald.config import Settings
from herald.errors import BrowserUnavailable, FetchTimeout

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Playwright, Route

log = logging.getLogger(__name__)
BLOCKED = frozenset({"image", "media", "font"})
__all__ = ["BLOCKED", "BrowserPool", "PoolLimits", "PooledBrowser", "PooledPage", "Session"]


class BrowserPool:
    """See the module docstring. Nothing starts until the first acquire."""

    def __init__(
        self,
        limits: PoolLimits | None = None,
        *,
        chromium: str | None,
        enabled: bool = True,
        args: tuple[str, ...] = ARGS,
        playwright: Playwright | None = None,
    ) -> None:
        """``playwright``: a started driver to share (it stays its giver's to stop);
        otherwise the pool starts its own on the first launch and stops it in close_all."""
        self.limits = limits or PoolLimits()
        self.chromium = chromium
        self.enabled = enabled
        self._args = list(args)
        self._pw: Playwright | None = playwright
        self._own_driver = playwright is None
        self._browsers: list[PooledBrowser] = []
        self._cond = asyncio.Condition()
        self._ids = itertools.count(1)
        self._reaper: asyncio.Task[None] | None = None
        self._waiting = 0
        self._lost = 0
        self.totals = {"launched": 0, "disconnects": 0, "restarts": 0, "retired": 0}
        self.totals |= {"idleClosed": 0, "pagesServed": 0, "blocked": 0}

    @classmethod
    def from_settings(cls, settings: Settings) -> BrowserPool:
        enabled, chromium = browser_enabled(settings)
        return cls(PoolLimits.from_settings(settings), chromium=chromium, enabled=enabled)

    # --- the seed's API ----------------------------------------------------------------
    async def acquire_browser(self) -> PooledBrowser:
        """A live browser with a free page slot (launched if none has one and the limit
        allows); waits up to ``acquire_timeout`` for a slot otherwise. Leased until
        :meth:`release_browser`, so it is not closed under its holder."""
        if not self.enabled or self.chromium is None:
            raise BrowserUnavailable(
                "the browser path is off or no Chromium was found "
                "(set HERALD_BROWSER=on and HERALD_CHROMIUM, or install chromium)"
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.acquire_timeout  # for a slot; a launch is apart
        async with self._cond:
            while True:
                chosen = self._free_browser()
                if chosen is None and len(self._live()) < self.limits.browsers:
                    chosen = await self._launch()
                if chosen is not None:
                    chosen.leases += 1
                    chosen.idle_since = None
                    return chosen
                self._waiting += 1
                try:
                    await asyncio.wait_for(self._cond.wait(), max(deadline - loop.time(), 0))
                except TimeoutError as exc:
                    raise FetchTimeout(
                        f"no browser page free within {self.limits.acquire_timeout:g}s "
                        f"({self.limits.browsers} browsers x {self.limits.pages_per_browser} "
                        "pages, all busy)"
                    ) from exc
                finally:
                    self._waiting -= 1

    async def release_browser(self, pooled: PooledBrowser) -> None:
        async with self._cond:
            pooled.leases = max(pooled.leases - 1, 0)
            await self._settle(pooled)
            self._cond.notify_all()

    async def acquire_page(
        self, pooled: PooledBrowser, session: Session | None = None
    ) -> PooledPage:
        """A new page in ``pooled``, in ``session``'s context (created with its cookies on
        first use, and again when the cookies change) or a cookieless one."""
        async with self._cond:
            while pooled.alive and pooled.pages >= self.limits.pages_per_browser:
                await self._cond.wait()
            if not pooled.alive:
                raise BrowserUnavailable("the browser closed before a page could open in it")
            pooled.pages += 1
            self._gauges()
        try:
            context = await self._context(pooled, session)
            page = await context.new_page()
        except Exception as exc:
            async with self._cond:
                pooled.pages -= 1
                await self._settle(pooled)
                self._cond.notify_all()
            raise BrowserUnavailable(
                f"could not open a browser page ({type(exc).__name__})"
            ) from None
        return PooledPage(page, pooled, session.key if session else None)

    async def release_page(self, pooled_page: PooledPage) -> None:
        """Close the page; the browser retires once it has served ``retire_after`` pages."""
        if pooled_page.released:
            return
        pooled_page.released = True
        with contextlib.suppress(Exception):  # a dead browser's page is gone already
            await pooled_page.page.close()
        owner = pooled_page.owner
        async with self._cond:
            owner.pages -= 1
            owner.served += 1
            self.totals["pagesServed"] += 1
            metrics.BROWSER_PAGES.inc()
            if owner.served >= self.limits.retire_after and not owner.retiring:
                owner.retiring = True
                self.totals["retired"] += 1
            await self._settle(owner)
            self._cond.notify_all()

    async def close_all(self) -> None:
        """Close every browser and the Playwright driver; the pool starts again on demand."""
        reaper, self._reaper = self._reaper, None
        if reaper is not None:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper
        async with self._cond:
            browsers, self._browsers = self._browsers, []
            for pooled in browsers:
                pooled.alive = False
                await self._close(pooled)
            pw = self._pw if self._own_driver else None
            if self._own_driver:
                self._pw = None
            self._gauges()
            self._cond.notify_all()
        if pw is not None:
            with contextlib.suppress(Exception):
                await pw.stop()

    def status(self) -> dict[str, Any]:
        """The pool as ``GET /api/browser-pool`` shows it: no cookie, no account secret."""
        live = self._live()
        return {
            "enabled": self.enabled,
            "chromium": self.chromium,
            "browsers": [b.public() for b in live],
            "pages": sum(b.pages for b in live),
            "waiting": self._waiting,
            "limits": self.limits.public(),
            **self.totals,
        }

    @asynccontextmanager
    async def page(self, session: Session | None = None) -> AsyncIterator[PooledPage]:
        """A page for the length of the block, released whatever happens."""
        pooled = await self.acquire_browser()
        try:
            page = await self.acquire_page(pooled, session)
        finally:
            await self.release_browser(pooled)
        try:
            yield page
        finally:
            await self.release_page(page)

    # --- internals (called with the condition's lock held) --------------------------------
    def _live(self) -> list[PooledBrowser]:
        for pooled in [b for b in self._browsers if b.alive]:
            if not pooled.browser.is_connected():  # died; its event may still be on its way
                self._disconnected(pooled)
        return [b for b in self._browsers if b.alive]

    def _free_browser(self) -> PooledBrowser | None:
        usable = [
            b
            for b in self._live()
            if not b.retiring and b.pages + b.leases < self.limits.pages_per_browser
        ]
        return min(usable, key=lambda b: b.pages + b.leases, default=None)

    async def _launch(self) -> PooledBrowser:
        from playwright.async_api import async_playwright

        assert self.chromium is not None
        try:
            if self._pw is None:
                self._pw = await async_playwright().start()
            before = browser_pids()
            browser = await self._pw.chromium.launch(
                executable_path=self.chromium, headless=True, args=self._args
            )
        except Exception as exc:
            raise BrowserUnavailable(
                f"could not start Chromium at {self.chromium} ({type(exc).__name__})"
            ) from None
        pids = browser_pids() - before
        pooled = PooledBrowser(
            id=f"b{next(self._ids)}",
            browser=browser,
            pid=min(pids) if len(pids) == 1 else None,
            started_at=time.time(),
        )
        browser.on("disconnected", lambda _: self._disconnected(pooled))
        self._browsers.append(pooled)
        self.totals["launched"] += 1
        restart = self._lost > 0  # this one replaces a browser that died
        if restart:
            self._lost -= 1
            self.totals["restarts"] += 1
        metrics.BROWSER_LAUNCHES.labels("restart" if restart else "start").inc()
        log.info("browser %s started (pid %s)", pooled.id, pooled.pid)
        self._gauges()
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.create_task(self._reap(), name="browser-pool-reaper")
        return pooled

    def _disconnected(self, pooled: PooledBrowser) -> None:
        """Playwright saw the browser go (crash, kill, close): drop it; wake the waiters."""
        if not pooled.alive:
            return
        pooled.alive = False
        self._lost += 1
        self.totals["disconnects"] += 1
        log.warning(
            "browser %s (pid %s) disconnected; the next acquire starts another",
            pooled.id,
            pooled.pid,
        )
        if pooled in self._browsers:
            self._browsers.remove(pooled)
        self._gauges()
        with contextlib.suppress(RuntimeError):  # no loop: nobody is waiting
            asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def _settle(self, pooled: PooledBrowser) -> None:
        """After a release: close a retiring browser with nothing left; note idleness."""
        if pooled.pages or pooled.leases:
            return
        if pooled.retiring and pooled.alive:
            pooled.alive = False
            self._browsers.remove(pooled)
            await self._close(pooled)
        elif pooled.alive:
            pooled.idle_since = time.monotonic()
        self._gauges()

    async def _context(self, pooled: PooledBrowser, session: Session | None) -> BrowserContext:
        key = session.key if session else ""
        fingerprint = session.fingerprint() if session else ""
        known = pooled.contexts.get(key)
        if known is not None and known[0] == fingerprint:
            return known[1]
        context = await pooled.browser.new_context()
        await context.route("**/*", self._block)
        if session is not None:
            await context.add_cookies(
                [{"name": k, "value": v, "url": session.url} for k, v in session.cookies.items()]
            )
        pooled.contexts[key] = (fingerprint, context)
        if known is not None:  # the account's cookie changed: its old jar goes
            with contextlib.suppress(Exception):
                await known[1].close()
        return context

    async def _block(self, route: Route) -> None:
        if route.request.resource_type in BLOCKED:
            self.totals["blocked"] += 1
            metrics.BROWSER_BLOCKED.inc()
            await route.abort("blockedbyclient")
        else:
            await route.continue_()

    async def _close(self, pooled: PooledBrowser) -> None:
        with contextlib.suppress(Exception):
            await pooled.browser.close()
        log.info("browser %s closed after %d pages", pooled.id, pooled.served)

    async def _reap(self) -> None:
        """Close browsers idle for ``idle_seconds``; ends when no browser is left."""
        every = min(max(self.limits.idle_seconds / 4, 0.05), 5.0)
        while True:
            await asyncio.sleep(every)
            async with self._cond:
                now = time.monotonic()
                for pooled in self._live():
                    idle = pooled.idle_since
                    if idle is not None and now - idle >= self.limits.idle_seconds:
                        pooled.alive = False
                        self._browsers.remove(pooled)
                        self.totals["idleClosed"] += 1
                        await self._close(pooled)
                self._gauges()
                if not self._browsers:
                    self._reaper = None
                    return

    def _gauges(self) -> None:
        live = self._live()
        metrics.BROWSER_OPEN.set(len(live))
        metrics.BROWSER_OPEN_PAGES.set(sum(b.pages for b in live))
