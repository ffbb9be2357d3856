"""Presence: how many live clients every server node has, so any node can say "N watching".

Each node reports its own counts (per transport) with a lease; a node that dies stops
reporting and its counts lapse after the lease, with no cleanup needed. One script records a
report, drops lapsed nodes and answers every live node's counts, timed by the Redis server's
clock so nodes with skewed clocks still agree on who has lapsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import orjson
from redis.asyncio import Redis

from herald.store.keys import Keys

Counts = dict[str, int]

# KEYS: presence_nodes (zset node -> lapse ms), presence_counts (hash node -> JSON).
# ARGV: node ('' to only read), counts JSON, lease ms. Returns the live nodes' HGETALL.
_REPORT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] ~= '' then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, node in ipairs(lapsed) do
  redis.call('ZREM', KEYS[1], node)
  redis.call('HDEL', KEYS[2], node)
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then
  local left = math.max(1, math.floor(tonumber(last[2]) - now))
  redis.call('PEXPIRE', KEYS[1], left)
  redis.call('PEXPIRE', KEYS[2], left)
end
return redis.call('HGETALL', KEYS[2])
"""


class PresenceStore(Protocol):
    async def report(self, node: str, counts: Mapping[str, int], lease: float) -> dict[str, Counts]:
        """Record ``node``'s live connections for ``lease`` seconds; answer every live
        node's counts (this one included)."""
        ...

    async def nodes(self) -> dict[str, Counts]:
        """Every live node's counts, lapsed reports dropped."""
        ...

    async def forget(self, node: str) -> None:
        """A node that stops cleanly leaves at once instead of lapsing."""
        ...


def _decode(raw: object) -> Counts:
    try:
        body = orjson.loads(raw if isinstance(raw, bytes | str) else b"{}")
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(body, dict):
        return {}
    return {str(k): int(v) for k, v in body.items() if isinstance(v, int) and v >= 0}


def _text(raw: object) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


class RedisPresence:
    """``Keys.presence_nodes`` and ``Keys.presence_counts``, updated by one script."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._script = redis.register_script(_REPORT)

    async def _run(self, node: str, counts: Mapping[str, int], lease: float) -> dict[str, Counts]:
        flat = await self._script(
            keys=[self._keys.presence_nodes, self._keys.presence_counts],
            args=[node, orjson.dumps(dict(counts)), max(int(lease * 1000), 1)],
        )
        return {_text(flat[i]): _decode(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def report(self, node: str, counts: Mapping[str, int], lease: float) -> dict[str, Counts]:
        if not node:
            raise ValueError("a presence report needs a node id")
        return await self._run(node, counts, lease)

    async def nodes(self) -> dict[str, Counts]:
        return await self._run("", {}, 0)

    async def forget(self, node: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._keys.presence_nodes, node)
            pipe.hdel(self._keys.presence_counts, node)
            await pipe.execute()
