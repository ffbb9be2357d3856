"""Commands in Redis: the idempotency record of each command id, per-account write budgets
and write pauses (and the twin's contract).

A command id is claimed by one script: the first claim stores the record, the rest get the
stored one back, so two submits of one id (two API nodes, a client retry) run it once. The
record moves only by compare-and-set on its state (``requested`` -> ``running`` ->
``succeeded | failed | uncertain``; ``uncertain`` -> ``succeeded | failed``), so a runner
and a reconciler, or two reconcilers, can never both settle it.

``requested`` means not sent yet, ``running`` that the request may have left: a runner that
died leaves its lease to expire, and the reconciler then knows which of the two it was.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson
from redis.asyncio import Redis

from herald.store.codec import text
from herald.store.keys import Keys

# KEYS: command, index, open; ARGV: id, doc, now_ms, lease_until_ms, ttl_s, index_max
# Returns {1} when claimed, else {0, doc, state}.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('HGET', KEYS[1], 'doc'), redis.call('HGET', KEYS[1], 'state')}
end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'state', 'requested', 'lease', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1) end
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[5])
return {1}
"""

# KEYS: command; ARGV: id, expected states (comma separated), new state, doc,
#       lease_until_ms, ttl_s
# Returns 1 when moved, else {0, state}. A settled command stays in the open set until
# close(): its event is logged first, so a crash in between leaves it for the reconciler.
_MOVE = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, ''} end
local ok = false
for s in string.gmatch(ARGV[2], '[^,]+') do
  if s == state then ok = true end
end
if not ok then return {0, state} end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'doc', ARGV[4], 'lease', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
return 1
"""

# KEYS: budget; ARGV: now_ms, command id, then (window_ms, limit) pairs.
# Returns 0 when the write is counted (or was already), else the ms until a slot frees.
_RESERVE = """
local now = tonumber(ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
local longest = 0
for i = 3, #ARGV, 2 do
  local window = tonumber(ARGV[i])
  if window > longest then longest = window end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
local wait = 0
for i = 3, #ARGV, 2 do
  local window, limit = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  local inside = redis.call('ZRANGEBYSCORE', KEYS[1], now - window + 1, '+inf')
  if #inside >= limit then
    local oldest = tonumber(redis.call('ZSCORE', KEYS[1], inside[#inside - limit + 1]))
    local free = oldest + window - now
    if free > wait then wait = free end
  end
end
if wait > 0 then return wait end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], longest)
return 0
"""


@dataclass(frozen=True, slots=True)
class Claim:
    """``claimed``: this caller runs the command; else ``doc``/``state`` are the stored ones."""

    claimed: bool
    doc: dict[str, Any] | None = None
    state: str = ""


@dataclass(frozen=True, slots=True)
class Stored:
    doc: dict[str, Any]
    state: str
    lease: int
    """Epoch ms until which a runner owns a ``requested``/``running`` command."""


@runtime_checkable
class CommandStore(Protocol):
    async def claim(
        self, command_id: str, doc: Mapping[str, Any], now_ms: int, lease_until_ms: int
    ) -> Claim:
        """Store a new command as ``requested``; an existing id gives its record back."""
        ...

    async def move(
        self,
        command_id: str,
        expected: Sequence[str],
        state: str,
        doc: Mapping[str, Any],
        *,
        lease_until_ms: int = 0,
    ) -> bool:
        """Compare-and-set: move from one of ``expected`` to ``state``; False when it was
        in none of them (another runner or reconciler moved it)."""
        ...

    async def close(self, command_id: str) -> None:
        """Take a settled command (its event logged) out of the open set."""
        ...

    async def get(self, command_id: str) -> Stored | None: ...

    async def recent(self, limit: int) -> list[Stored]:
        """Newest first."""
        ...

    async def open_ids(self, limit: int) -> list[str]:
        """Commands not yet closed (unsettled, or settled with their event not yet
        confirmed), oldest first."""
        ...

    async def reserve(
        self, account_id: str, command_id: str, windows: Sequence[tuple[float, int]]
    ) -> float:
        """Count one write of the account in every ``(window_s, limit)``: 0.0 when counted
        (a command id counts once), else the seconds until a slot frees (nothing counted)."""
        ...

    async def pause(self, account_id: str, reason: Mapping[str, Any], seconds: float) -> None: ...

    async def paused(self, account_id: str) -> dict[str, Any] | None: ...

    async def resume(self, account_id: str) -> bool: ...


def _json(value: Mapping[str, Any]) -> bytes:
    return orjson.dumps(dict(value))


class RedisCommandStore:
    def __init__(
        self, redis: Redis, keys: Keys, *, ttl: int = 7 * 24 * 3600, keep: int = 10_000
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = ttl
        self._keep = keep
        self._claim = redis.register_script(_CLAIM)
        self._move = redis.register_script(_MOVE)
        self._reserve = redis.register_script(_RESERVE)

    async def claim(
        self, command_id: str, doc: Mapping[str, Any], now_ms: int, lease_until_ms: int
    ) -> Claim:
        k = self._keys
        result = await self._claim(
            keys=[k.command(command_id), k.commands, k.commands_open],
            args=[command_id, _json(doc), now_ms, lease_until_ms, self._ttl, self._keep],
        )
        if int(result[0]) == 1:
            return Claim(True)
        return Claim(False, orjson.loads(result[1]), text(result[2]))

    async def move(
        self,
        command_id: str,
        expected: Sequence[str],
        state: str,
        doc: Mapping[str, Any],
        *,
        lease_until_ms: int = 0,
    ) -> bool:
        result = await self._move(
            keys=[self._keys.command(command_id)],
            args=[command_id, ",".join(expected), state, _json(doc), lease_until_ms, self._ttl],
        )
        return bool(result == 1)

    async def close(self, command_id: str) -> None:
        await self._redis.zrem(self._keys.commands_open, command_id)

    async def get(self, command_id: str) -> Stored | None:
        raw = await self._redis.hgetall(self._keys.command(command_id))
        return _stored(raw)

    async def recent(self, limit: int) -> list[Stored]:
        ids = await self._redis.zrevrange(self._keys.commands, 0, max(limit, 1) - 1)
        if not ids:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for command_id in ids:
            pipe.hgetall(self._keys.command(text(command_id)))
        found = [_stored(raw) for raw in await pipe.execute()]
        return [s for s in found if s is not None]

    async def open_ids(self, limit: int) -> list[str]:
        ids = await self._redis.zrange(self._keys.commands_open, 0, max(limit, 1) - 1)
        return [text(i) for i in ids]

    async def reserve(
        self, account_id: str, command_id: str, windows: Sequence[tuple[float, int]]
    ) -> float:
        args: list[Any] = [_now_ms(), command_id]
        for seconds, limit in windows:
            args.extend((int(seconds * 1000), int(limit)))
        if len(args) == 2:
            return 0.0
        wait = await self._reserve(keys=[self._keys.write_budget(account_id)], args=args)
        return int(wait) / 1000.0

    async def pause(self, account_id: str, reason: Mapping[str, Any], seconds: float) -> None:
        await self._redis.set(
            self._keys.write_pause(account_id), _json(reason), px=max(int(seconds * 1000), 1)
        )

    async def paused(self, account_id: str) -> dict[str, Any] | None:
        raw = await self._redis.get(self._keys.write_pause(account_id))
        if raw is None:
            return None
        value = orjson.loads(raw)
        return value if isinstance(value, dict) else {}

    async def resume(self, account_id: str) -> bool:
        return bool(await self._redis.delete(self._keys.write_pause(account_id)))


def _stored(raw: Mapping[Any, Any] | None) -> Stored | None:
    if not raw:
        return None
    fields = {text(k): v for k, v in raw.items()}
    if "doc" not in fields:
        return None
    doc = orjson.loads(fields["doc"])
    lease = int(text(fields.get("lease", b"0")) or 0)
    return Stored(doc if isinstance(doc, dict) else {}, text(fields.get("state", b"")), lease)


def _now_ms() -> int:
    return int(time.time() * 1000)
