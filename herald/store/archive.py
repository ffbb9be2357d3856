"""The archive writer's side of Redis: its consumer group on the global log and its lease.

The group ``archive`` reads every entry of the log; an entry is acknowledged only once the
archive has committed it, so a writer killed mid-batch leaves the batch pending and the
next owner (after ``XAUTOCLAIM``) writes it again. The archive's insert is idempotent by
eventId, so at-least-once delivery here is exactly once in the archive. The lease keeps one
writer at a time (a lapsed writer that still writes is harmless for the same reason).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from herald.store.codec import fields, text
from herald.store.keys import Keys

GROUP = "archive"

_ACQUIRE = """
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class Entries:
    """Entries read from the group: (offset, body or None when trimmed) and the raw ids."""

    entries: list[tuple[str, bytes | None]]
    ids: list[bytes]


class ArchiveLogStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def ensure_group(self) -> None:
        """Create the group at the start of the log: turning the archive on archives what
        the log still holds."""
        try:
            await self.redis.xgroup_create(self.keys.events, GROUP, "0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def acquire(self, owner: str, ttl: float) -> bool:
        got = await self._acquire(keys=[self.keys.archive_lease], args=[owner, int(ttl * 1000)])
        return bool(got)

    async def renew(self, owner: str, ttl: float) -> bool:
        got = await self._renew(keys=[self.keys.archive_lease], args=[owner, int(ttl * 1000)])
        return bool(got)

    async def release(self, owner: str) -> None:
        await self._release(keys=[self.keys.archive_lease], args=[owner])

    async def claim_pending(self, consumer: str) -> None:
        """Take over every entry pending in the group (a dead writer's batch)."""
        start = "0-0"
        while True:
            reply = await self.redis.xautoclaim(
                self.keys.events, GROUP, consumer, 0, start_id=start, count=1000
            )
            start = text(reply[0])
            if start == "0-0":
                return

    async def read(self, consumer: str, count: int, *, pending: bool, block_ms: int) -> Entries:
        """The consumer's pending entries (``pending``), else new ones, waiting up to
        ``block_ms`` for new ones."""
        reply: Any = await self.redis.xreadgroup(
            GROUP,
            consumer,
            {self.keys.events: "0" if pending else ">"},
            count=count,
            block=None if pending else block_ms,
        )
        entries: list[tuple[str, bytes | None]] = []
        ids: list[bytes] = []
        for _stream, items in reply or []:
            for entry_id, data in items:
                ids.append(entry_id)
                body = data.get(b"e") if data else None
                entries.append((text(entry_id), body))
        return Entries(entries, ids)

    async def ack(self, ids: list[bytes]) -> None:
        if ids:
            await self.redis.xack(self.keys.events, GROUP, *ids)

    async def lag(self) -> int | None:
        """Entries of the log the group has not read yet (None when Redis cannot say)."""
        try:
            groups = await self.redis.xinfo_groups(self.keys.events)
        except ResponseError:
            return None
        for group in groups:
            if text(group.get("name")) == GROUP:
                lag = group.get("lag")
                return int(lag) if lag is not None else None
        return None

    async def set_state(self, values: dict[str, str]) -> None:
        await self.redis.hset(self.keys.archive_state, mapping=fields(values))

    async def incr(self, field: str, by: int) -> None:
        await self.redis.hincrby(self.keys.archive_state, field, by)

    async def state(self) -> dict[str, str]:
        raw = await self.redis.hgetall(self.keys.archive_state)
        return {text(k): text(v) for k, v in raw.items()}

    async def owner(self) -> str | None:
        value = await self.redis.get(self.keys.archive_lease)
        return text(value) if value is not None else None

    async def delete(self) -> None:
        await self.redis.delete(self.keys.archive_lease, self.keys.archive_state)
        with contextlib.suppress(ResponseError):
            await self.redis.xgroup_destroy(self.keys.events, GROUP)
