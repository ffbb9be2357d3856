"""Platform account records: a hash per account (sealed cookie, label, health, times) and an
index of ids. The caller seals and unseals cookies; this module never sees one in the clear.

X's :class:`herald.sources.x.accounts.AccountStore` keeps its accounts here.

Health changes go through :meth:`AccountRecordStore.transition`, a compare-and-set on the
record's transition count (``healthSeq``) that appends the ``account:health`` event in the
same script: however many workers see the same 429 or 401, the transition is recorded once
and its event logged once, under the pseudo stream id ``account:{accountId}``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

from redis.asyncio import Redis

from herald.events import Event
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


# KEYS: account, eventids, history, global log (of the pseudo stream account:{id})
# ARGV: expected seq, health, reason, now_ms, history_max, log_max, eventids_max, ttl,
#       stream id, event id, event type, body
_TRANSITION = """
if redis.call('HEXISTS', KEYS[1], 'cookie') == 0 then return false end
local seq = tonumber(redis.call('HGET', KEYS[1], 'healthSeq') or '0')
local health = redis.call('HGET', KEYS[1], 'health') or 'ok'
if seq ~= tonumber(ARGV[1]) then return {'stale', health, tostring(seq)} end
if health == ARGV[2] then
  redis.call('HSET', KEYS[1], 'healthReason', ARGV[3])
  return {'same', health, tostring(seq)}
end
redis.call('HSET', KEYS[1], 'health', ARGV[2], 'healthReason', ARGV[3], 'healthSeq', seq + 1)
if redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[10]) == 1 then
  local off = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*',
                         't', ARGV[11], 's', ARGV[9], 'e', ARGV[12])
  redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[5], '*', 'o', off, 'e', ARGV[12])
  local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[7])
  if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1) end
  redis.call('EXPIRE', KEYS[2], ARGV[8])
  redis.call('EXPIRE', KEYS[3], ARGV[8])
end
return {'moved', ARGV[2], tostring(seq + 1)}
"""

HEALTH_HISTORY = 100
"""``account:health`` events kept in an account's own history (the global log has all)."""


def health_stream(account_id: str) -> str:
    """The pseudo stream id of an account's events: its ``streamId`` in the log."""
    return f"account:{account_id}"


Outcome = Literal["moved", "same", "stale"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What :meth:`AccountRecordStore.transition` found: ``moved`` (the transition is
    recorded, with its event), ``same`` (no change of state; the reason is updated) or
    ``stale`` (another worker moved first: ``health`` and ``seq`` are the stored ones)."""

    outcome: Outcome
    health: str
    seq: int


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

    async def transition(
        self, account_id: str, expected_seq: int, health: str, reason: str, event: Event
    ) -> Verdict | None:
        """Compare-and-set on the transition count: if it is still ``expected_seq`` and the
        state differs, record ``health``, count the transition and append ``event`` (to the
        global log and the account's history, once by its eventId), in one step. None when
        the account does not exist (a removed account is not resurrected)."""
        ...


class AccountRecords:
    """``Keys.account(id)`` hashes, indexed by ``Keys.accounts`` (scored by when added)."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        log_maxlen: int = 100_000,
        ttl: int = 7 * 24 * 3600,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._log_maxlen = log_maxlen
        self._ttl = ttl
        self._touch = redis.register_script(_TOUCH)
        self._transition = redis.register_script(_TRANSITION)

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

    async def transition(
        self, account_id: str, expected_seq: int, health: str, reason: str, event: Event
    ) -> Verdict | None:
        k = self._keys
        stream = health_stream(account_id)
        reply = await self._transition(
            keys=[k.account(account_id), k.event_ids(stream), k.history(stream), k.events],
            args=[
                expected_seq,
                health,
                reason,
                int(time.time() * 1000),
                HEALTH_HISTORY,
                self._log_maxlen,
                HEALTH_HISTORY * 10,
                self._ttl,
                stream,
                event.event_id,
                event.type.value,
                event.encode(),
            ],
        )
        if reply is None:
            return None
        outcome, stored, seq = (text(part) for part in reply)
        return Verdict(cast(Outcome, outcome), stored, int(seq))
