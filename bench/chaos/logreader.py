"""Follows herald's global log through ``GET /api/events/log`` with a cursor: the referee.

It keeps every event after its starting cursor and lets the scenario wait for a condition
on them (every posted tweet seen, say) with a timeout. A server that is down (killed on
purpose) is retried every ``RETRY`` seconds, from the same cursor, so nothing is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import httpx

RETRY = 0.2
LONG_POLL = 1.0


class LogReader:
    def __init__(self, base: str) -> None:
        self.base = base
        self.events: list[dict[str, Any]] = []
        self.cursor = ""
        self.failures = 0
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> str:
        """Start from the log's current end (what was there before is not counted)."""
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(self.base + "/api/events/log", params={"limit": 1})
            answer.raise_for_status()
            self.cursor = str(answer.json()["cursor"])
        self._task = asyncio.create_task(self._follow())
        return self.cursor

    async def _follow(self) -> None:
        async with httpx.AsyncClient(timeout=LONG_POLL + 10) as client:
            while True:
                params: dict[str, str | float] = {
                    "since": self.cursor,
                    "limit": 1000,
                    "wait": LONG_POLL,
                }
                try:
                    answer = await client.get(self.base + "/api/events/log", params=params)
                    answer.raise_for_status()
                except httpx.HTTPError:
                    self.failures += 1
                    await asyncio.sleep(RETRY)  # pacing the retries while the server is down
                    continue
                body = answer.json()
                async with self._changed:
                    self.events.extend(body["events"])
                    self.cursor = str(body["cursor"])
                    self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float
    ) -> bool:
        """True once ``predicate(events)`` holds; False if ``timeout`` passes first."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: predicate(self.events))
            return True
        except TimeoutError:
            return False

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def tweet_ids(events: list[dict[str, Any]]) -> set[str]:
    return {str(e["tweet"]["id"]) for e in events if e.get("type") == "stream:tweet:new"}
