"""Reading X through a page: load it, capture the GraphQL answers its own script fetches.

:class:`PageReader` loads a profile or search page in a pooled page and records every
``/i/api/graphql/{id}/{Operation}`` response the page makes. Its :meth:`PageReader.call`
has the readers' ``call(operation, variables)`` shape, so the same readers and parsers
serve both paths: it answers with the captured body of that operation (and that cursor).
A page of a timeline further down is what the page loads when scrolled to its end, as
x.com's app does; the reader scrolls when it needs one. Captured answers go through the
client's own classification, so a 429, a refused cookie or a challenge means the same
thing on both paths.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx

from herald.errors import BrowserUnavailable, FetchTimeout, SchemaError
from herald.sources.x.answers import classify

if TYPE_CHECKING:
    from playwright.async_api import Page, Response

GRAPHQL = "/i/api/graphql/"
SCROLL = "window.scrollTo(0, document.body.scrollHeight); window.dispatchEvent(new Event('scroll'))"


@dataclass(frozen=True, slots=True)
class Captured:
    status: int
    headers: dict[str, str]
    body: bytes


def _key(url: str) -> tuple[str, str | None] | None:
    """(operation, cursor) of a GraphQL URL; None for any other URL."""
    parts = urlsplit(url)
    if GRAPHQL not in parts.path:
        return None
    operation = parts.path.rstrip("/").rsplit("/", 1)[-1]
    raw = parse_qs(parts.query).get("variables", ["{}"])[0]
    try:
        variables = json.loads(raw)
    except json.JSONDecodeError:
        variables = {}
    cursor = variables.get("cursor") if isinstance(variables, dict) else None
    return operation, cursor if isinstance(cursor, str) and cursor else None


class PageReader:
    """One page and the GraphQL answers it fetched (see the module docstring)."""

    def __init__(self, page: Page, timeout: float) -> None:
        self._page = page
        self._timeout = timeout
        self._captured: dict[tuple[str, str | None], Captured] = {}
        self._changed = asyncio.Condition()
        self.requests = 0
        page.on("response", self._on_response)

    async def open(self, url: str) -> None:
        from playwright.async_api import Error as PlaywrightError

        try:
            await self._page.goto(url, wait_until="domcontentloaded", timeout=self._timeout * 1000)
        except PlaywrightError as exc:
            raise _translate(exc, "loading the page") from None

    async def call(self, operation: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The page's answer to ``operation`` (at ``variables['cursor']``), as JSON."""
        cursor = variables.get("cursor")
        key = (operation, cursor if isinstance(cursor, str) and cursor else None)
        captured = await self._wait_for(key)
        response = httpx.Response(captured.status, headers=captured.headers, content=captured.body)
        body = classify(operation, response, time.time())
        if not isinstance(body, dict):
            raise SchemaError(
                f"the page's answer to {operation} was not a JSON object "
                f"(HTTP {captured.status}, {len(captured.body)} bytes)"
            )
        return body

    async def _wait_for(self, key: tuple[str, str | None]) -> Captured:
        from playwright.async_api import Error as PlaywrightError

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        async with self._changed:
            while key not in self._captured:
                # The next page: scroll to the end, again on every turn, since a scroll that
                # lands while the page is still rendering the previous page is ignored by it.
                if key[1] is not None:
                    try:
                        await self._page.evaluate(SCROLL)
                    except PlaywrightError as exc:
                        raise _translate(exc, "scrolling the page") from None
                left = deadline - loop.time()
                if left <= 0:
                    raise FetchTimeout(
                        f"the page did not fetch {key[0]} within {self._timeout:g}s (browser path)"
                    )
                if self._page.is_closed():
                    raise BrowserUnavailable("the browser page closed during the poll")
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.5))
                except TimeoutError:
                    continue
            return self._captured[key]

    async def _on_response(self, response: Response) -> None:
        key = _key(response.url)
        if key is None:
            return
        try:
            body = await response.body()
            headers = await response.all_headers()
        except Exception:  # the page or browser went away mid-answer
            return
        async with self._changed:
            self.requests += 1
            self._captured[key] = Captured(response.status, headers, body)
            self._changed.notify_all()


def _translate(exc: Exception, what: str) -> Exception:
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    if isinstance(exc, PlaywrightTimeout):
        return FetchTimeout(f"the browser timed out {what}")
    return BrowserUnavailable(f"the browser failed {what} ({type(exc).__name__})")
