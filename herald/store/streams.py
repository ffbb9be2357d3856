"""Stream records in Redis: meta (what to watch) and state (how polling goes).

``meta`` changes only through the lifecycle API; ``state`` is written by the poller. Both
hashes carry the stream's TTL, renewed on every poll and every change.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis

from herald.store.codec import fields, text
from herald.store.keys import Keys
from herald.store.locks import RedisLockStore

ACTIVE, PAUSED, ERROR, STOPPED = "active", "paused", "error", "stopped"

# Commit a poll's state only while the stream is still active (not stopped or paused mid-poll).
# KEYS: state, meta, stats, lock; ARGV: status, ttl, lock token, then field/value pairs.
# The poll's lock goes in the same round trip, whether or not the state was written.
_COMMIT_STATE = """
if ARGV[3] ~= '' and redis.call('GET', KEYS[4]) == ARGV[3] then redis.call('DEL', KEYS[4]) end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= ARGV[1] then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HINCRBY', KEYS[1], 'polls', 1)
redis.call('HINCRBY', KEYS[3], 'polls', 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return 1
"""


# The same fields of many hashes in one command: what a watermark refresh reads.
# KEYS: hashes; ARGV: fields. A flat array, #ARGV values per hash (nil where missing).
_HMGET_MANY = """
local out, n = {}, #ARGV
for i = 1, #KEYS do
  local values = redis.call('HMGET', KEYS[i], unpack(ARGV))
  for j = 1, n do out[(i - 1) * n + j] = values[j] end
end
return out
"""
_MANY_CHUNK = 2000
"""Hashes per script call: one call never holds the server for long."""


def iso(ts: float | None) -> str | None:
    if not ts:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class StreamRecord:
    """Everything known about one stream, as read from its two hashes."""

    id: str
    type: str
    username: str
    interval: float
    created_at: float
    account_id: str | None = None
    user_id: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    status: str = ACTIVE
    last_poll: float | None = None
    next_poll: float | None = None
    consecutive_errors: int = 0
    last_error: str | None = None
    last_error_kind: str | None = None
    high_water: str | None = None
    previous_count: int | None = None
    baselined: bool = False
    seq: int = 0
    polls: int = 0
    stop_reason: str | None = None
    cursor: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The API shape: the seed's fields first (``interval`` in ms, as the seed has it).
        ``path`` is there when the source says which way it read the last poll (X:
        ``graphql`` or ``browser``)."""
        body = {
            "id": self.id,
            "type": self.type,
            "username": self.username,
            "status": self.status,
            "interval": int(self.interval * 1000),
            "intervalSeconds": self.interval,
            "createdAt": iso(self.created_at),
            "userId": self.user_id,
            "accountId": self.account_id,
            "options": self.options,
            "lastPoll": iso(self.last_poll),
            "nextPoll": iso(self.next_poll) if self.status == ACTIVE else None,
            "consecutiveErrors": self.consecutive_errors,
            "lastError": self.last_error,
            "lastErrorKind": self.last_error_kind,
            "stopReason": self.stop_reason,
            "highWater": self.high_water,
            "polls": self.polls,
            "counts": dict(self.counts),
            "eventsTotal": sum(self.counts.values()),
        }
        if "path" in self.cursor:
            body["path"] = self.cursor["path"]
        return body


def _s(raw: Mapping[bytes, bytes], name: str) -> str | None:
    value = raw.get(name.encode())
    return value.decode() if value is not None else None


def _f(raw: Mapping[bytes, bytes], name: str) -> float | None:
    value = _s(raw, name)
    return float(value) if value not in (None, "") else None


def _record(
    stream_id: str, meta: Mapping[bytes, bytes], state: Mapping[bytes, bytes]
) -> StreamRecord:
    counts = {
        k.decode()[len("events:") :]: int(v) for k, v in state.items() if k.startswith(b"events:")
    }
    prev = _s(state, "previousCount")
    return StreamRecord(
        id=stream_id,
        type=_s(meta, "type") or "",
        username=_s(meta, "username") or "",
        interval=_f(meta, "interval") or 60.0,
        created_at=_f(meta, "createdAt") or 0.0,
        account_id=_s(meta, "accountId") or None,
        user_id=_s(meta, "userId") or None,
        options=orjson.loads(_s(meta, "options") or "{}"),
        status=_s(state, "status") or ACTIVE,
        last_poll=_f(state, "lastPoll"),
        next_poll=_f(state, "nextPoll"),
        consecutive_errors=int(_s(state, "consecutiveErrors") or 0),
        last_error=_s(state, "lastError") or None,
        last_error_kind=_s(state, "lastErrorKind") or None,
        high_water=_s(state, "highWater") or None,
        previous_count=int(prev) if prev not in (None, "") else None,
        baselined=_s(state, "baselined") == "1",
        seq=int(_s(state, "seq") or 0),
        polls=int(_s(state, "polls") or 0),
        stop_reason=_s(state, "stopReason") or None,
        cursor=orjson.loads(_s(state, "cursor") or "{}"),
        counts=counts,
    )


@dataclass(frozen=True, slots=True)
class MarkState:
    """The part of a stream's record its watermark needs (:meth:`StreamStore.mark_states`)."""

    id: str
    type: str
    status: str
    last_poll: float | None
    last_error: str | None
    consecutive_errors: int


_MARK_FIELDS = ("status", "lastPoll", "lastError", "consecutiveErrors")


def dedup_key(type_: str, username: str, account_id: str | None) -> str:
    return f"{type_}:{username.lower()}:{account_id or '-'}"


class StreamStore:
    """CRUD over stream records. Knows key names and field encodings, nothing about polling."""

    def __init__(self, redis: Redis, keys: Keys, *, ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = ttl
        self._commit = redis.register_script(_COMMIT_STATE)
        self._hmget_many = redis.register_script(_HMGET_MANY)
        self.locks = RedisLockStore(redis, keys)
        """The poll locks this store takes (``lock_and_get``) and releases (``commit_poll``,
        ``release_lock``): one ``LockStore`` for the poller, the sweep and the reconciler."""
        self.lock_holder: str | None = None
        """The id of the worker in this process, if any: each lock taken is recorded under
        it (``Keys.worker_locks``) so that a sweep can free it should the worker die."""

    @property
    def ttl(self) -> int:
        return self._ttl

    async def claim(self, type_: str, username: str, account_id: str | None, stream_id: str) -> str:
        """Reserve (type, username, account) for ``stream_id``; returns the holder's id."""
        index = self._keys.stream_index
        field_ = dedup_key(type_, username, account_id)
        if await self._redis.hsetnx(index, field_, stream_id):
            return stream_id
        holder = await self._redis.hget(index, field_)
        if holder is None:  # released in between; try once more
            return await self.claim(type_, username, account_id, stream_id)
        holder_id = text(holder)
        if not await self._redis.exists(self._keys.meta(holder_id)):  # expired: take it over
            await self._redis.hset(index, field_, stream_id)
            return stream_id
        return holder_id

    async def create(self, record: StreamRecord) -> None:
        k = self._keys
        meta = {
            "type": record.type,
            "username": record.username,
            "interval": repr(record.interval),
            "createdAt": repr(record.created_at),
            "accountId": record.account_id or "",
            "userId": record.user_id or "",
            "options": orjson.dumps(record.options),
        }
        state = {
            "status": record.status,
            "consecutiveErrors": 0,
            "baselined": "0",
            "seq": 0,
            "polls": 0,
            "nextPoll": repr(record.next_poll or time.time()),
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.meta(record.id), mapping=fields(meta))
            pipe.hset(k.state(record.id), mapping=fields(state))
            pipe.expire(k.meta(record.id), self._ttl)
            pipe.expire(k.state(record.id), self._ttl)
            pipe.zadd(k.streams, {record.id: record.created_at})
            await pipe.execute()

    async def get(self, stream_id: str) -> StreamRecord | None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._keys.meta(stream_id))
            pipe.hgetall(self._keys.state(stream_id))
            meta, state = await pipe.execute()
        if not meta:
            return None
        return _record(stream_id, meta, state)

    async def lock_and_get(
        self, stream_id: str, token: str, lease_ms: int
    ) -> tuple[bool, StreamRecord | None]:
        """Try the stream's poll lock (``SET NX PX``) and read the stream, in one round trip.

        The same as taking the lock and then reading, as a poll did before, minus a round
        trip per poll: the read comes after the lock on the server either way.
        """
        async with self._redis.pipeline(transaction=False) as pipe:
            if self.lock_holder is not None:  # before the lock: never a lock without a record
                held = self._keys.worker_locks(self.lock_holder)
                pipe.hset(held, stream_id, token)
                pipe.pexpire(held, lease_ms)
            pipe.set(self._keys.lock(stream_id), token, nx=True, px=lease_ms)
            pipe.hgetall(self._keys.meta(stream_id))
            pipe.hgetall(self._keys.state(stream_id))
            *_, locked, meta, state = await pipe.execute()
        return bool(locked), (_record(stream_id, meta, state) if meta else None)

    async def release_lock(self, stream_id: str, token: str) -> bool:
        """Release the poll's lock if ``token`` still owns it (a poll that did not commit)."""
        return await self.locks.release(stream_id, token)

    async def ids(self) -> list[str]:
        return [text(raw) for raw in await self._redis.zrange(self._keys.streams, 0, -1)]

    async def all(self) -> list[StreamRecord]:
        """Every stream, oldest first; index entries whose keys expired are pruned."""
        ids = await self.ids()
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in ids:
                pipe.hgetall(self._keys.meta(sid))
                pipe.hgetall(self._keys.state(sid))
            raw = await pipe.execute()
        records, gone = [], []
        for i, sid in enumerate(ids):
            meta, state = raw[2 * i], raw[2 * i + 1]
            if meta:
                records.append(_record(sid, meta, state))
            else:
                gone.append(sid)
        if gone:
            await self._redis.zrem(self._keys.streams, *gone)
        return records

    async def mark_states(
        self, ids: Sequence[str] | None = None, *, types: dict[str, str] | None = None
    ) -> list[MarkState]:
        """What every watermark refresh reads: four state fields per stream, not both whole
        hashes, in one round trip (after the index, when ``ids`` is None) of a few script
        calls (one command per 2,000 streams: per-command overhead would dominate).

        ``types`` caches each stream's type across calls (it never changes): only streams
        it lacks have their ``type`` read. Streams whose keys expired are left out.
        """
        if ids is None:
            ids = await self.ids()
        if not ids:
            return []
        known = types if types is not None else {}
        k = self._keys
        unknown = [sid for sid in ids if sid not in known]
        async with self._redis.pipeline(transaction=False) as pipe:
            for i in range(0, len(ids), _MANY_CHUNK):
                chunk = [k.state(sid) for sid in ids[i : i + _MANY_CHUNK]]
                await self._hmget_many(keys=chunk, args=list(_MARK_FIELDS), client=pipe)
            for i in range(0, len(unknown), _MANY_CHUNK):
                chunk = [k.meta(sid) for sid in unknown[i : i + _MANY_CHUNK]]
                await self._hmget_many(keys=chunk, args=["type"], client=pipe)
            raw = await pipe.execute()
        n_states = -(-len(ids) // _MANY_CHUNK)
        states = [v for part in raw[:n_states] for v in part]
        for sid, found in zip(unknown, (v for part in raw[n_states:] for v in part), strict=True):
            if found is not None:
                known[sid] = found.decode()
        out: list[MarkState] = []
        width = len(_MARK_FIELDS)
        for i, sid in enumerate(ids):
            status, last_poll, last_error, errors = states[i * width : (i + 1) * width]
            type_ = known.get(sid)
            if status is None or type_ is None:
                continue  # expired (or never created): not a stream any more
            out.append(
                MarkState(
                    sid,
                    type_,
                    status.decode(),
                    float(last_poll) if last_poll else None,
                    last_error.decode() if last_error else None,
                    int(errors) if errors else 0,
                )
            )
        return out

    async def update_meta(self, stream_id: str, values: Mapping[str, Any]) -> None:
        k = self._keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.meta(stream_id), mapping=fields(values))
            pipe.expire(k.meta(stream_id), self._ttl)
            pipe.expire(k.state(stream_id), self._ttl)
            await pipe.execute()

    async def set_state(self, stream_id: str, values: Mapping[str, Any]) -> None:
        k = self._keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.state(stream_id), mapping=fields(values))
            pipe.expire(k.state(stream_id), self._ttl)
            pipe.expire(k.meta(stream_id), self._ttl)
            await pipe.execute()

    async def record_failure(self, stream_id: str, values: Mapping[str, Any]) -> int:
        """Write a failed poll's state and count the failure in the same transaction.

        Returns the stream's failure number (``failures``, never reset): error and stop
        events take their ids from it, so each occurrence is its own event, while a retried
        append of the same events stays one.
        """
        k = self._keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(k.state(stream_id), "failures", 1)
            pipe.hset(k.state(stream_id), mapping=fields(values))
            pipe.expire(k.state(stream_id), self._ttl)
            pipe.expire(k.meta(stream_id), self._ttl)
            results = await pipe.execute()
        return int(results[0])

    async def commit_poll(
        self, stream_id: str, values: Mapping[str, Any], lock_token: str = ""
    ) -> bool:
        """Write a finished poll's state, only if the stream is still active; with
        ``lock_token``, release the poll's lock too (compare-and-delete)."""
        args: list[Any] = ["active", self._ttl, lock_token]
        for name, value in values.items():
            args.extend((name, value))
        k = self._keys
        keys = [k.state(stream_id), k.meta(stream_id), k.stats, k.lock(stream_id)]
        return bool(await self._commit(keys=keys, args=args))

    async def count_failure(self, kind: str) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(self._keys.stats, "polls", 1)
            pipe.hincrby(self._keys.stats, f"errors:{kind}", 1)
            await pipe.execute()

    async def totals(self) -> dict[str, int]:
        """Global counters: ``polls`` and ``errors:{kind}``."""
        raw = await self._redis.hgetall(self._keys.stats)
        return {text(k): int(v) for k, v in raw.items()}

    async def delete(self, record: StreamRecord) -> None:
        k = self._keys
        field_ = dedup_key(record.type, record.username, record.account_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(*k.stream_keys(record.id))
            pipe.zrem(k.streams, record.id)
            await pipe.execute()
        holder = await self._redis.hget(k.stream_index, field_)
        if holder is not None and text(holder) == record.id:
            await self._redis.hdel(k.stream_index, field_)

    async def release_claim(
        self, type_: str, username: str, account_id: str | None, stream_id: str
    ) -> None:
        k = self._keys
        field_ = dedup_key(type_, username, account_id)
        holder = await self._redis.hget(k.stream_index, field_)
        if holder is not None and text(holder) == stream_id:
            await self._redis.hdel(k.stream_index, field_)
