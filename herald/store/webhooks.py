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
from herald.store.webhook_scripts import (
    ACQUIRE,
    COMMIT,
    CREATE,
    DELETE,
    DISABLE,
    FAIL,
    HEALTH,
    RELEASE,
    REPLACE,
    SKIP,
)


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

    async def skip(
        self, endpoint_id: str, expected: bytes, committed: str, offset: str, attempt: bytes
    ) -> str:
        """Move the committed offset from ``committed`` to ``offset`` (past a held event),
        forget the retry and record ``attempt``, only while the endpoint's JSON is still
        ``expected``: ``skipped``, ``changed`` or ``moved`` (the offset moved meanwhile)."""
        ...

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
        self._create = redis.register_script(CREATE)
        self._replace = redis.register_script(REPLACE)
        self._delete = redis.register_script(DELETE)
        self._acquire = redis.register_script(ACQUIRE)
        self._release = redis.register_script(RELEASE)
        self._commit = redis.register_script(COMMIT)
        self._fail = redis.register_script(FAIL)
        self._disable = redis.register_script(DISABLE)
        self._health = redis.register_script(HEALTH)
        self._skip = redis.register_script(SKIP)

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

    async def skip(
        self, endpoint_id: str, expected: bytes, committed: str, offset: str, attempt: bytes
    ) -> str:
        k = self.keys
        keys = [k.webhooks, k.webhook_state(endpoint_id), k.webhook_attempts(endpoint_id)]
        args: list[Any] = [endpoint_id, expected, committed, offset, attempt, self._kept]
        return text(await self._skip(keys=keys, args=args))

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
