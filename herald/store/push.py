"""Push connections in Redis: the lease, the cursor saved with the events, status, the index.

A push connection serves several streams (every ``bsky:*`` stream shares one Jetstream
connection). Its owner appends a decoded batch with :data:`_APPEND_BATCH`: one script that
checks the owner still holds the lease (a worker whose lease lapsed appends nothing, so
two owners can never both write), appends each stream's events once (the rules of
:mod:`herald.store.eventlog`: ``ZADD NX`` on the eventId, then ``XADD`` to the global log and
the stream's history, per-type counts; streams no longer active are skipped) and stores the
connection's cursor. A takeover resumes from that cursor: everything before it is in the
log, nothing after it is.

The index (``Keys.push_streams``, stream id -> when it joined) and the version counter
(``Keys.push_version``) let every worker notice a lifecycle change with one ``GET``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis

from herald.events import Event
from herald.store.codec import fields, text
from herald.store.keys import Keys

_APPEND_BATCH = """
-- KEYS: global log, cursor, lease, then (eventids, history, state) per stream
-- ARGV: now_ms, history_max, log_max, eventids_max, ttl, token, cursor ('' = unchanged),
--       then per stream: stream_id, n, and n (eventId, type, body) triples
if redis.call('GET', KEYS[3]) ~= ARGV[6] then return false end
local out, skipped = {}, {}
local i, s = 8, 0
while i <= #ARGV do
  local sid, n = ARGV[i], tonumber(ARGV[i + 1])
  i = i + 2
  local ek, hk, sk = KEYS[4 + s * 3], KEYS[5 + s * 3], KEYS[6 + s * 3]
  s = s + 1
  if redis.call('HGET', sk, 'status') ~= 'active' then
    skipped[#skipped + 1] = sid
  else
    local added = 0
    for j = 0, n - 1 do
      local eid, etype, body = ARGV[i + 3 * j], ARGV[i + 3 * j + 1], ARGV[i + 3 * j + 2]
      if redis.call('ZADD', ek, 'NX', ARGV[1], eid) == 1 then
        local off = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*',
                               't', etype, 's', sid, 'e', body)
        redis.call('XADD', hk, 'MAXLEN', ARGV[2], '*', 'o', off, 'e', body)
        redis.call('HINCRBY', sk, 'events:' .. etype, 1)
        out[#out + 1] = eid
        out[#out + 1] = off
        added = added + 1
      end
    end
    if added > 0 then
      local excess = redis.call('ZCARD', ek) - tonumber(ARGV[4])
      if excess > 0 then redis.call('ZREMRANGEBYRANK', ek, 0, excess - 1) end
      redis.call('EXPIRE', ek, ARGV[5])
      redis.call('EXPIRE', hk, ARGV[5])
      redis.call('EXPIRE', sk, ARGV[5])
    end
  end
  i = i + 3 * n
end
if ARGV[7] ~= '' then redis.call('SET', KEYS[2], ARGV[7], 'EX', ARGV[5]) end
return {out, skipped}
"""

# KEYS: lease; ARGV: token, ttl ms. 1 if renewed (still the owner).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: lease; ARGV: token. 1 if deleted (was the owner).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class BatchAppended:
    """What one batch appended: (eventId, offset) of the new events, in order, and the
    streams skipped because they were no longer active."""

    appended: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class PushStore(Protocol):
    """Everything the push runtime keeps in the store (module docstring)."""

    async def take(self, connection: str, token: str, ttl_ms: int) -> bool:
        """Take the connection's lease if nobody holds it."""
        ...

    async def renew(self, connection: str, token: str, ttl_ms: int) -> bool:
        """Extend the lease only while ``token`` still holds it; False: it was lost."""
        ...

    async def release(self, connection: str, token: str) -> bool:
        """Give the lease up only while ``token`` holds it."""
        ...

    async def owner(self, connection: str) -> str | None:
        """The token holding the lease, if any."""
        ...

    async def cursor(self, connection: str) -> str | None: ...

    async def append(
        self,
        connection: str,
        token: str,
        batches: Mapping[str, Sequence[Event]],
        cursor: str | None,
    ) -> BatchAppended | None:
        """Append each stream's events once and save ``cursor`` (None: unchanged), all or
        nothing; None when ``token`` no longer holds the lease (nothing was written)."""
        ...

    async def set_status(self, connection: str, values: Mapping[str, Any], ttl_ms: int) -> None: ...

    async def status(self, connection: str) -> dict[str, str]: ...

    async def join(self, stream_id: str, since: float) -> None:
        """Add (or re-add, after a resume) a push stream; bumps the version."""
        ...

    async def leave(self, stream_id: str) -> None:
        """Take a stopped stream out of the index; bumps the version."""
        ...

    async def bump(self) -> int:
        """Say that a push stream changed (paused, updated, stopped by errors)."""
        ...

    async def version(self) -> int: ...

    async def members(self) -> dict[str, float]:
        """Every push stream id with the time it (re)joined."""
        ...

    async def touch(self, stream_ids: Iterable[str]) -> None:
        """Renew the TTL of streams that receive nothing (a quiet account's stream must
        not expire while it is watched)."""
        ...


class RedisPushStore:
    """:class:`PushStore` on Redis (single node or Valkey, like the event log)."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        history_size: int = 1000,
        log_maxlen: int = 100_000,
        ttl: int = 7 * 24 * 3600,
        event_ids_kept: int = 10_000,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._history_size = history_size
        self._log_maxlen = log_maxlen
        self._ttl = ttl
        self._event_ids_kept = max(event_ids_kept, history_size)
        self._append = redis.register_script(_APPEND_BATCH)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def take(self, connection: str, token: str, ttl_ms: int) -> bool:
        lease = self._keys.push_lease(connection)
        return bool(await self._redis.set(lease, token, nx=True, px=ttl_ms))

    async def renew(self, connection: str, token: str, ttl_ms: int) -> bool:
        keys = [self._keys.push_lease(connection)]
        return bool(await self._renew(keys=keys, args=[token, ttl_ms]))

    async def release(self, connection: str, token: str) -> bool:
        return bool(await self._release(keys=[self._keys.push_lease(connection)], args=[token]))

    async def owner(self, connection: str) -> str | None:
        raw = await self._redis.get(self._keys.push_lease(connection))
        return None if raw is None else text(raw)

    async def cursor(self, connection: str) -> str | None:
        raw = await self._redis.get(self._keys.push_cursor(connection))
        return None if raw is None else text(raw)

    async def append(
        self,
        connection: str,
        token: str,
        batches: Mapping[str, Sequence[Event]],
        cursor: str | None,
    ) -> BatchAppended | None:
        k = self._keys
        keys = [k.events, k.push_cursor(connection), k.push_lease(connection)]
        args: list[Any] = [
            int(time.time() * 1000),
            self._history_size,
            self._log_maxlen,
            self._event_ids_kept,
            self._ttl,
            token,
            cursor or "",
        ]
        for stream_id, events in batches.items():
            keys.extend((k.event_ids(stream_id), k.history(stream_id), k.state(stream_id)))
            args.extend((stream_id, len(events)))
            for event in events:
                args.extend((event.event_id, event.type.value, event.encode()))
        result = await self._append(keys=keys, args=args)
        if result is None:
            return None
        out, skipped = result
        pairs = [text(x) for x in out]
        return BatchAppended(
            [(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)],
            [text(x) for x in skipped],
        )

    async def set_status(self, connection: str, values: Mapping[str, Any], ttl_ms: int) -> None:
        key = self._keys.push_status(connection)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields(values))
            pipe.pexpire(key, ttl_ms)
            await pipe.execute()

    async def status(self, connection: str) -> dict[str, str]:
        raw = await self._redis.hgetall(self._keys.push_status(connection))
        return {text(name): text(value) for name, value in raw.items()}

    async def join(self, stream_id: str, since: float) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._keys.push_streams, stream_id, repr(since))
            pipe.incr(self._keys.push_version)
            await pipe.execute()

    async def leave(self, stream_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._keys.push_streams, stream_id)
            pipe.incr(self._keys.push_version)
            await pipe.execute()

    async def bump(self) -> int:
        return int(await self._redis.incr(self._keys.push_version))

    async def version(self) -> int:
        raw = await self._redis.get(self._keys.push_version)
        return int(raw) if raw is not None else 0

    async def members(self) -> dict[str, float]:
        raw = await self._redis.hgetall(self._keys.push_streams)
        return {text(sid): float(since) for sid, since in raw.items()}

    async def touch(self, stream_ids: Iterable[str]) -> None:
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in stream_ids:
                pipe.expire(k.meta(sid), self._ttl)
                pipe.expire(k.state(sid), self._ttl)
            await pipe.execute()
