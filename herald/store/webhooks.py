"""Webhook endpoints and their delivery state in Redis.

An endpoint is JSON in one hash (its secret sealed by :class:`herald.store.secrets.Cipher`,
never in the clear); every change bumps one counter, so deliverers learn with one ``GET``
that they must reload. Each endpoint has its own committed offset on the global log: the
consumer reads ``XRANGE`` after it, and moves it only in a script that first checks the
endpoint's lease (``SET NX PX`` with an owner token). A process that lost the lease (paused,
cut off) can therefore neither move the offset nor record a retry: the new owner resumes
from the last committed offset. The same fenced scripts record the attempt, so the record
and the offset move together.

An automatic disable (a 410, or the retry schedule exhausted) compares-and-sets the
endpoint's JSON and appends its ``webhook:health`` event once (append-once on the pseudo
stream ``webhook:{id}``, like ``account:health``) in one script.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson
from redis.asyncio import Redis

from herald.store.codec import text
from herald.store.keys import Keys

# KEYS: endpoints, order, version, state; ARGV: id, json, start offset. 0 if the id exists.
_CREATE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local v = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], v, ARGV[1])
redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[4], 'offset', ARGV[3], 'health', 'ok', 'healthSeq', '0')
return v
"""
# KEYS: endpoints, version, state; ARGV: id, json, reset ('1': a fresh retry schedule).
_REPLACE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '1' then
  redis.call('HDEL', KEYS[3], 'retryOffset', 'retryAttempts', 'nextAt', 'failingSince')
end
return redis.call('INCR', KEYS[2])
"""
# KEYS: endpoints, order, version, state, lease, attempts; ARGV: id. 1 if it existed.
_DELETE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
redis.call('INCR', KEYS[3])
return 1
"""
# KEYS: lease; ARGV: owner, ttl ms. 1 when the caller holds it afterwards.
_ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if held then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: lease, state, attempts; ARGV: owner, offset, attempt json ('' none), kept,
# delivered (0 or 1), now ms. Moves the offset past a delivered (or skipped) event.
_COMMIT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
redis.call('HSET', KEYS[2], 'offset', ARGV[2])
redis.call('HDEL', KEYS[2], 'retryOffset', 'retryAttempts', 'nextAt', 'failingSince')
if ARGV[5] ~= '0' then
  redis.call('HINCRBY', KEYS[2], 'delivered', ARGV[5])
  redis.call('HSET', KEYS[2], 'lastSuccessAt', ARGV[6])
end
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[3], ARGV[3])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
end
return 1
"""
# KEYS: lease, state, attempts; ARGV: owner, retry offset, attempts, next at ms, now ms,
# attempt json, kept, error. Records a failed attempt and when the next one is due.
_FAIL = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
redis.call('HSET', KEYS[2], 'retryOffset', ARGV[2], 'retryAttempts', ARGV[3],
           'nextAt', ARGV[4], 'lastError', ARGV[8])
redis.call('HSETNX', KEYS[2], 'failingSince', ARGV[5])
redis.call('HINCRBY', KEYS[2], 'failed', 1)
redis.call('LPUSH', KEYS[3], ARGV[6])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[7]) - 1)
return 1
"""
# The health part shared by _DISABLE and _HEALTH. KEYS (from 4): state, eventids,
# history, global log. ARGV (from 1): expected seq, health, event id, type, body, now ms,
# history max, log max, stream id, ttl.
_HEALTH_PART = """
local seq = tonumber(redis.call('HGET', KEYS[4], 'healthSeq') or '0')
if seq ~= tonumber(ARGV[1]) then return {'stale', tostring(seq)} end
redis.call('HSET', KEYS[4], 'health', ARGV[2], 'healthSeq', seq + 1)
if redis.call('ZADD', KEYS[5], 'NX', ARGV[6], ARGV[3]) == 1 then
  local off = redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[8], '*',
                         't', ARGV[4], 's', ARGV[9], 'e', ARGV[5])
  redis.call('XADD', KEYS[6], 'MAXLEN', ARGV[7], '*', 'o', off, 'e', ARGV[5])
  redis.call('EXPIRE', KEYS[5], ARGV[10])
  redis.call('EXPIRE', KEYS[6], ARGV[10])
end
"""
# KEYS: endpoints, version, lease, + the health keys; ARGV: the health args, then owner,
# id, expected json, new json, attempt json ('' none), kept, attempts key.
_DISABLE = (
    """
if ARGV[11] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[11] then return {'fenced', ''} end
if redis.call('HGET', KEYS[1], ARGV[12]) ~= ARGV[13] then return {'changed', ''} end
"""
    + _HEALTH_PART
    + """
redis.call('HSET', KEYS[1], ARGV[12], ARGV[14])
redis.call('INCR', KEYS[2])
if ARGV[15] ~= '' then
  redis.call('LPUSH', KEYS[8], ARGV[15])
  redis.call('LTRIM', KEYS[8], 0, tonumber(ARGV[16]) - 1)
end
return {'moved', tostring(seq + 1)}
"""
)
# KEYS: endpoints, version, lease (unused), + the health keys; ARGV: the health args.
_HEALTH = _HEALTH_PART + "\nreturn {'moved', tostring(seq + 1)}\n"


@dataclass(frozen=True, slots=True)
class HealthChange:
    """A ``webhook:health`` transition to record with its event (built by the caller)."""

    expected_seq: int
    state: str
    event_id: str
    event_type: str
    body: bytes


@runtime_checkable
class WebhookStore(Protocol):
    """Endpoints, their committed offsets, retries and attempts."""

    async def version(self) -> int: ...

    async def endpoints(self) -> list[dict[str, Any]]:
        """Every endpoint (as stored: secret sealed), in creation order."""
        ...

    async def endpoint_raw(self, endpoint_id: str) -> bytes | None: ...

    async def create(self, endpoint: Mapping[str, Any], offset: str) -> bool:
        """Store a new endpoint delivering what the log appends after ``offset``."""
        ...

    async def replace(self, endpoint: Mapping[str, Any], *, reset: bool) -> bool:
        """Replace an endpoint; ``reset`` forgets a retry in progress (a re-enable)."""
        ...

    async def delete(self, endpoint_id: str) -> bool: ...

    async def state(self, endpoint_id: str) -> dict[str, str]: ...

    async def acquire(self, endpoint_id: str, owner: str, ttl_ms: int) -> bool: ...

    async def release(self, endpoint_id: str, owner: str) -> None: ...

    async def commit(
        self, endpoint_id: str, owner: str, offset: str, attempt: bytes | None, delivered: bool
    ) -> bool:
        """Move the committed offset (fenced); False when ``owner`` lost the lease."""
        ...

    async def fail(
        self,
        endpoint_id: str,
        owner: str,
        offset: str,
        attempts: int,
        next_at_ms: int,
        attempt: bytes,
        error: str,
    ) -> bool: ...

    async def disable(
        self,
        endpoint_id: str,
        owner: str | None,
        expected: bytes,
        replacement: Mapping[str, Any],
        change: HealthChange,
        attempt: bytes | None,
    ) -> str:
        """``moved``, ``fenced``, ``changed`` (the endpoint changed meanwhile) or ``stale``."""
        ...

    async def health(self, endpoint_id: str, change: HealthChange) -> str: ...

    async def record(self, endpoint_id: str, attempt: bytes) -> None:
        """Record an attempt made outside the consumer (a manual resend, a test)."""
        ...

    async def attempts(self, endpoint_id: str, limit: int) -> list[dict[str, Any]]: ...


def health_stream(endpoint_id: str) -> str:
    """The pseudo stream id of an endpoint's ``webhook:health`` events."""
    return f"webhook:{endpoint_id}"


class RedisWebhookStore:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        attempts_kept: int = 100,
        log_maxlen: int = 100_000,
        history_size: int = 1000,
        ttl: int = 7 * 24 * 3600,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self._kept = attempts_kept
        self._log_maxlen = log_maxlen
        self._history = history_size
        self._ttl = ttl
        self._create = redis.register_script(_CREATE)
        self._replace = redis.register_script(_REPLACE)
        self._delete = redis.register_script(_DELETE)
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._commit = redis.register_script(_COMMIT)
        self._fail = redis.register_script(_FAIL)
        self._disable = redis.register_script(_DISABLE)
        self._health = redis.register_script(_HEALTH)

    async def version(self) -> int:
        raw = await self.redis.get(self.keys.webhook_version)
        return int(text(raw)) if raw is not None else 0

    async def endpoints(self) -> list[dict[str, Any]]:
        ids = [text(i) for i in await self.redis.zrange(self.keys.webhook_order, 0, -1)]
        if not ids:
            return []
        raw = await self.redis.hmget(self.keys.webhooks, ids)
        return [orjson.loads(r) for r in raw if r is not None]

    async def endpoint_raw(self, endpoint_id: str) -> bytes | None:
        raw = await self.redis.hget(self.keys.webhooks, endpoint_id)
        return raw if isinstance(raw, bytes) or raw is None else str(raw).encode()

    async def create(self, endpoint: Mapping[str, Any], offset: str) -> bool:
        k = self.keys
        done = await self._create(
            keys=[k.webhooks, k.webhook_order, k.webhook_version, k.webhook_state(endpoint["id"])],
            args=[endpoint["id"], orjson.dumps(dict(endpoint)), offset],
        )
        return bool(done)

    async def replace(self, endpoint: Mapping[str, Any], *, reset: bool) -> bool:
        k = self.keys
        done = await self._replace(
            keys=[k.webhooks, k.webhook_version, k.webhook_state(endpoint["id"])],
            args=[endpoint["id"], orjson.dumps(dict(endpoint)), "1" if reset else "0"],
        )
        return bool(done)

    async def delete(self, endpoint_id: str) -> bool:
        k = self.keys
        done = await self._delete(
            keys=[
                k.webhooks,
                k.webhook_order,
                k.webhook_version,
                k.webhook_state(endpoint_id),
                k.webhook_lease(endpoint_id),
                k.webhook_attempts(endpoint_id),
            ],
            args=[endpoint_id],
        )
        return bool(done)

    async def state(self, endpoint_id: str) -> dict[str, str]:
        raw = await self.redis.hgetall(self.keys.webhook_state(endpoint_id))
        return {text(key): text(value) for key, value in raw.items()}

    async def acquire(self, endpoint_id: str, owner: str, ttl_ms: int) -> bool:
        got = await self._acquire(keys=[self.keys.webhook_lease(endpoint_id)], args=[owner, ttl_ms])
        return bool(got)

    async def release(self, endpoint_id: str, owner: str) -> None:
        await self._release(keys=[self.keys.webhook_lease(endpoint_id)], args=[owner])

    def _fenced_keys(self, endpoint_id: str) -> list[str]:
        k = self.keys
        return [
            k.webhook_lease(endpoint_id),
            k.webhook_state(endpoint_id),
            k.webhook_attempts(endpoint_id),
        ]

    async def commit(
        self, endpoint_id: str, owner: str, offset: str, attempt: bytes | None, delivered: bool
    ) -> bool:
        done = await self._commit(
            keys=self._fenced_keys(endpoint_id),
            args=[owner, offset, attempt or b"", self._kept, 1 if delivered else 0, _now_ms()],
        )
        return done is not None

    async def fail(
        self,
        endpoint_id: str,
        owner: str,
        offset: str,
        attempts: int,
        next_at_ms: int,
        attempt: bytes,
        error: str,
    ) -> bool:
        done = await self._fail(
            keys=self._fenced_keys(endpoint_id),
            args=[owner, offset, attempts, next_at_ms, _now_ms(), attempt, self._kept, error],
        )
        return done is not None

    def _health_keys(self, endpoint_id: str) -> list[str]:
        k = self.keys
        stream = health_stream(endpoint_id)
        return [
            k.webhooks,
            k.webhook_version,
            k.webhook_lease(endpoint_id),
            k.webhook_state(endpoint_id),
            k.event_ids(stream),
            k.history(stream),
            k.events,
        ]

    def _health_args(self, endpoint_id: str, change: HealthChange) -> list[Any]:
        return [
            change.expected_seq,
            change.state,
            change.event_id,
            change.event_type,
            change.body,
            _now_ms(),
            self._history,
            self._log_maxlen,
            health_stream(endpoint_id),
            self._ttl,
        ]

    async def disable(
        self,
        endpoint_id: str,
        owner: str | None,
        expected: bytes,
        replacement: Mapping[str, Any],
        change: HealthChange,
        attempt: bytes | None,
    ) -> str:
        reply = await self._disable(
            keys=[*self._health_keys(endpoint_id), self.keys.webhook_attempts(endpoint_id)],
            args=[
                *self._health_args(endpoint_id, change),
                owner or "",
                endpoint_id,
                expected,
                orjson.dumps(dict(replacement)),
                attempt or b"",
                self._kept,
            ],
        )
        return text(reply[0])

    async def health(self, endpoint_id: str, change: HealthChange) -> str:
        reply = await self._health(
            keys=self._health_keys(endpoint_id), args=self._health_args(endpoint_id, change)
        )
        return text(reply[0])

    async def record(self, endpoint_id: str, attempt: bytes) -> None:
        key = self.keys.webhook_attempts(endpoint_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, attempt)
            pipe.ltrim(key, 0, self._kept - 1)
            await pipe.execute()

    async def attempts(self, endpoint_id: str, limit: int) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(self.keys.webhook_attempts(endpoint_id), 0, limit - 1)
        return [orjson.loads(item) for item in raw]


def _now_ms() -> int:
    return int(time.time() * 1000)
