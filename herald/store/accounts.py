"""Platform account records: a hash per account (sealed cookie, label, health, times) and an
index of ids. The caller seals and unseals cookies; this module never sees one in the clear.

X's :class:`herald.sources.x.accounts.AccountStore` keeps its accounts here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from redis.asyncio import Redis

from herald.store.codec import text
from herald.store.keys import Keys

Raw = Mapping[Any, Any]

# An account exists while its hash holds a cookie (remove deletes the hash).
_TOUCH = """
if redis.call('hexists', KEYS[1], 'cookie') == 1 then
  redis.call('hset', KEYS[1], 'lastUsed', ARGV[1])
end
return 0
"""


class AccountRecordStore(Protocol):
    """Account records; an account exists while its record holds a (sealed) cookie."""

    async def sealed(self, account_id: str) -> bytes | None:
        """The account's sealed cookie, if it exists."""
        ...

    async def put(
        self, account_id: str, sealed: bytes | str, label: str | None, *, fresh: bool, now: float
    ) -> None:
        """Store the sealed cookie (and label, when given); keep ``addedAt`` and health of
        an existing record unless ``fresh`` (a new cookie): then health is "ok" again."""
        ...

    async def get(self, account_id: str) -> Raw:
        """The record's fields (``cookie``, ``label``, ``health``, ``healthReason``,
        ``addedAt``, ``lastUsed``); empty when it does not exist."""
        ...

    async def all(self) -> list[tuple[str, Raw]]:
        """Every record, oldest first (by when it was added)."""
        ...

    async def remove(self, account_id: str) -> bool:
        """Delete the record; False if there was none."""
        ...

    async def set_health(self, account_id: str, health: str, reason: str) -> None:
        """Record a verdict; a removed account is not resurrected by a late poll."""
        ...

    async def touch(self, account_id: str, now: float) -> None:
        """Mark the account used at ``now``; a removed account is not resurrected."""
        ...


class AccountRecords:
    """``Keys.account(id)`` hashes, indexed by ``Keys.accounts`` (scored by when added)."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._touch = redis.register_script(_TOUCH)

    async def sealed(self, account_id: str) -> bytes | None:
        """The account's sealed cookie, if it exists."""
        value = await self._redis.hget(self._keys.account(account_id), "cookie")
        return value if isinstance(value, bytes) or value is None else value.encode()

    async def put(
        self, account_id: str, sealed: bytes | str, label: str | None, *, fresh: bool, now: float
    ) -> None:
        """Store the sealed cookie (and label); ``fresh``: a new cookie, so health resets."""
        key = self._keys.account(account_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, "cookie", sealed)
            pipe.hsetnx(key, "addedAt", repr(now))
            pipe.hsetnx(key, "health", "ok")
            if label is not None:
                pipe.hset(key, "label", label)
            if fresh:
                pipe.hset(key, mapping={"health": "ok", "healthReason": ""})
            pipe.zadd(self._keys.accounts, {account_id: now}, nx=True)
            await pipe.execute()

    async def get(self, account_id: str) -> Raw:
        """The account's hash as stored (empty when it does not exist)."""
        raw: Raw = await self._redis.hgetall(self._keys.account(account_id))
        return raw

    async def all(self) -> list[tuple[str, Raw]]:
        """Every account's hash, oldest first, in two round trips; ids whose hash is gone
        (no cookie) are dropped from the index."""
        ids = [text(raw) for raw in await self._redis.zrange(self._keys.accounts, 0, -1)]
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for account_id in ids:
                pipe.hgetall(self._keys.account(account_id))
            replies = await pipe.execute()
        found: list[tuple[str, Raw]] = []
        for account_id, raw in zip(ids, replies, strict=True):
            if raw.get(b"cookie", raw.get("cookie")) is None:
                await self._redis.zrem(self._keys.accounts, account_id)
            else:
                found.append((account_id, raw))
        return found

    async def remove(self, account_id: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._keys.account(account_id))
            pipe.zrem(self._keys.accounts, account_id)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def set_health(self, account_id: str, health: str, reason: str) -> None:
        """Record a verdict; a removed account is not resurrected by a late poll."""
        if await self._redis.zscore(self._keys.accounts, account_id) is None:
            return
        await self._redis.hset(
            self._keys.account(account_id), mapping={"health": health, "healthReason": reason}
        )

    async def touch(self, account_id: str, now: float) -> None:
        """Mark the account used at ``now``; a removed account is not resurrected."""
        await self._touch(keys=[self._keys.account(account_id)], args=[repr(now)])
