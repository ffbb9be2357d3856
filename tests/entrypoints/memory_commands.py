"""An in-memory :class:`~herald.commands.base.CommandsService` for the entry-point tests.

It keeps the contract's promises that the entry points rely on (the same ``commandId`` is
one execution answered with the first outcome; a second submit while the first runs waits
for it; refusals raise before anything runs) and lets a test choose each outcome: a text
or tweet id containing ``fail`` fails, ``uncertain`` ends uncertain, and :attr:`gate` holds
every run until the test opens it. The real service is tested against fakex elsewhere.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from herald.commands.base import COMMAND_TYPES, CommandsService
from herald.errors import (
    AccountPaused,
    NotFound,
    ValidationError,
    WriteRateLimited,
    WritesDisabled,
)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class MemoryCommands:
    def __init__(self) -> None:
        self.writes = True
        self.retry_after: float | None = None  # set: every submit is rate-limited
        self.paused: set[str] = set()
        self.gate = asyncio.Event()
        self.gate.set()
        self.records: dict[str, dict[str, Any]] = {}
        self.executions: Counter[str] = Counter()
        self._done: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(
        self, body: Mapping[str, Any], *, wait: bool = True, timeout: float | None = None
    ) -> dict[str, Any]:
        kind = body.get("type")
        if kind not in COMMAND_TYPES:
            raise ValidationError(f"type: unknown command type {kind!r}")
        data = body.get("data")
        field = "text" if kind == "post_tweet" else "tweet_id"
        if not isinstance(data, Mapping) or not isinstance(data.get(field), str):
            raise ValidationError(f"data.{field}: required, a string")
        if not self.writes:
            raise WritesDisabled("X writes are off: set HERALD_ENABLE_WRITES=true")
        command_id = str(body.get("commandId") or uuid.uuid4().hex)
        record = self.records.get(command_id)
        if record is None:
            if self.retry_after is not None:
                raise WriteRateLimited("the account's write budget is spent", self.retry_after)
            account = body.get("accountId") or "acc-1"
            if account in self.paused:
                raise AccountPaused(f"account {account}: writes paused (X answered 226)")
            record = {
                "id": command_id,
                "type": kind,
                "accountId": account,
                "data": dict(data),
                "state": "requested",
                "requestedAt": _now(),
            }
            self.records[command_id] = record
            self._done[command_id] = asyncio.Event()
            task = asyncio.create_task(self._run(record))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if wait:
            try:
                async with asyncio.timeout(timeout):
                    await self._done[command_id].wait()
            except TimeoutError:
                pass
        return dict(record)

    async def _run(self, record: dict[str, Any]) -> None:
        record["state"] = "running"
        self.executions[record["id"]] += 1
        await self.gate.wait()
        marker = str(record["data"].get("text") or record["data"].get("tweet_id"))
        if "uncertain" in marker:
            record["state"] = "uncertain"
            record["error"] = {"code": "timeout", "message": "X did not answer", "retryable": False}
        elif "fail" in marker:
            record["state"] = "failed"
            record["error"] = {"code": "x_error", "message": "X refused it", "retryable": False}
        else:
            record["state"] = "succeeded"
            record["result"] = _result(record)
        record["finishedAt"] = _now()
        self._done[record["id"]].set()

    async def get(self, command_id: str) -> dict[str, Any]:
        if command_id not in self.records:
            raise NotFound(f"no command {command_id!r}")
        return dict(self.records[command_id])

    async def list(self, *, limit: int = 50) -> list[dict[str, Any]]:
        return [dict(r) for r in reversed(self.records.values())][:limit]


def _result(record: dict[str, Any]) -> dict[str, Any]:
    kind, data = record["type"], record["data"]
    tweet = data.get("tweet_id", "1900000000000000001")
    if kind == "post_tweet":
        return {"tweetId": tweet, "url": f"https://x.com/i/status/{tweet}", "text": data["text"]}
    if kind == "delete_tweet":
        return {"tweetId": tweet, "deleted": True}
    if kind in ("like_tweet", "unlike_tweet"):
        return {"tweetId": tweet, "liked": kind == "like_tweet"}
    return {"tweetId": tweet, "retweeted": kind == "retweet"}


_: type[CommandsService] = MemoryCommands  # it keeps the Protocol
