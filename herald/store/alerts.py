"""Alert rules, silences and live statuses in Redis (and the twin's contract).

Rules and silences are JSON in hashes; every change bumps one counter in the same script,
so an evaluator learns that it must reload them with one ``GET`` per batch. Creating a rule
with an id that exists is refused in the script itself (no read-then-write race between two
API nodes). The evaluator's state is not here: it is the alerts pipeline's snapshot,
committed with the ack of its batch (:mod:`herald.store.pipelines`); the statuses here are
a view of it for the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import orjson
from redis.asyncio import Redis

from herald.store.codec import text
from herald.store.keys import Keys

# KEYS: rules, order, version; ARGV: id, json, mode ("create" | "replace").
# Returns the new version, 0 when create met an existing id or replace a missing one.
_PUT = """
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if ARGV[3] == 'create' and exists then return 0 end
if ARGV[3] == 'replace' and not exists then return 0 end
local v = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if not exists then redis.call('ZADD', KEYS[2], v, ARGV[1]) end
return v
"""
# KEYS: rules, order, version, status; ARGV: id. 1 when it existed.
_DELETE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('INCR', KEYS[3])
return 1
"""
# KEYS: silences, version; ARGV: id. 1 when it existed.
_UNSILENCE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('INCR', KEYS[2])
return 1
"""
# KEYS: silences, version; ARGV: id, json.
_SILENCE = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('INCR', KEYS[2])
"""


@runtime_checkable
class AlertStore(Protocol):
    """Rules, silences and statuses; every change moves :meth:`version`."""

    async def version(self) -> int: ...

    async def rules(self) -> list[dict[str, Any]]:
        """Every rule, in creation order."""
        ...

    async def rule(self, rule_id: str) -> dict[str, Any] | None: ...

    async def create_rule(self, rule: Mapping[str, Any]) -> bool:
        """Store a new rule; False (nothing stored) when its id exists."""
        ...

    async def replace_rule(self, rule: Mapping[str, Any]) -> bool:
        """Replace a stored rule; False (nothing stored) when its id is unknown."""
        ...

    async def delete_rule(self, rule_id: str) -> bool: ...

    async def silences(self) -> list[dict[str, Any]]: ...

    async def put_silence(self, silence: Mapping[str, Any]) -> None: ...

    async def delete_silence(self, silence_id: str) -> bool: ...

    async def statuses(self) -> dict[str, dict[str, Any]]: ...

    async def set_statuses(self, statuses: Mapping[str, Mapping[str, Any]]) -> None:
        """Write the statuses of the rules named (of rules that still exist only)."""
        ...


class RedisAlertStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._put = redis.register_script(_PUT)
        self._delete = redis.register_script(_DELETE)
        self._silence = redis.register_script(_SILENCE)
        self._unsilence = redis.register_script(_UNSILENCE)

    async def version(self) -> int:
        raw = await self.redis.get(self.keys.alert_version)
        return int(text(raw)) if raw is not None else 0

    async def rules(self) -> list[dict[str, Any]]:
        ids = [text(i) for i in await self.redis.zrange(self.keys.alert_order, 0, -1)]
        if not ids:
            return []
        raw = await self.redis.hmget(self.keys.alert_rules, ids)
        return [orjson.loads(r) for r in raw if r is not None]

    async def rule(self, rule_id: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.keys.alert_rules, rule_id)
        return orjson.loads(raw) if raw is not None else None

    async def _store(self, rule: Mapping[str, Any], mode: str) -> bool:
        k = self.keys
        done = await self._put(
            keys=[k.alert_rules, k.alert_order, k.alert_version],
            args=[rule["id"], orjson.dumps(dict(rule)), mode],
        )
        return bool(done)

    async def create_rule(self, rule: Mapping[str, Any]) -> bool:
        return await self._store(rule, "create")

    async def replace_rule(self, rule: Mapping[str, Any]) -> bool:
        return await self._store(rule, "replace")

    async def delete_rule(self, rule_id: str) -> bool:
        k = self.keys
        done = await self._delete(
            keys=[k.alert_rules, k.alert_order, k.alert_version, k.alert_status], args=[rule_id]
        )
        return bool(done)

    async def silences(self) -> list[dict[str, Any]]:
        raw = await self.redis.hvals(self.keys.alert_silences)
        found = [orjson.loads(r) for r in raw]
        return sorted(found, key=lambda s: (float(s["startsAt"]), str(s["id"])))

    async def put_silence(self, silence: Mapping[str, Any]) -> None:
        k = self.keys
        await self._silence(
            keys=[k.alert_silences, k.alert_version],
            args=[silence["id"], orjson.dumps(dict(silence))],
        )

    async def delete_silence(self, silence_id: str) -> bool:
        k = self.keys
        done = await self._unsilence(keys=[k.alert_silences, k.alert_version], args=[silence_id])
        return bool(done)

    async def statuses(self) -> dict[str, dict[str, Any]]:
        raw = await self.redis.hgetall(self.keys.alert_status)
        return {text(key): orjson.loads(value) for key, value in raw.items()}

    async def set_statuses(self, statuses: Mapping[str, Mapping[str, Any]]) -> None:
        if not statuses:
            return
        k = self.keys
        names = list(statuses)
        present = await self.redis.hmget(k.alert_rules, names)
        mapping = {
            name: orjson.dumps(dict(statuses[name]))
            for name, rule in zip(names, present, strict=True)
            if rule is not None
        }
        if mapping:
            await self.redis.hset(k.alert_status, mapping=mapping)  # type: ignore[arg-type]
