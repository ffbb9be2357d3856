"""What a stream remembers of its recent tweets, for engagement and deletion events.

Per tweet: what herald knew of it (its payload, without metrics), the metrics it last
*reported* (so slow drift adds up until it passes the threshold), and how many complete
polls in a row missed it. The poller loads the records of the tweets a poll fetched plus
every record above the poll's window floor (an absent one may be deleted), and saves what
changed after the poll's events are appended: a crash in between repeats the same events,
which the log's append-once drops.

The records are bounded (the newest ``limit`` by id) and share the stream's TTL, renewed by
every save; like the seen ids, a poll that changed nothing saves nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis

from herald.store.codec import text
from herald.store.keys import Keys


@dataclass(frozen=True, slots=True)
class Tracked:
    tweet: dict[str, Any]
    """What herald knew of the tweet: its wire payload without ``metrics``."""
    metrics: dict[str, int] = field(default_factory=dict)
    """The metrics last reported (or first seen)."""
    misses: int = 0
    """Complete polls in a row whose window held the tweet's id and not the tweet."""

    def encode(self) -> bytes:
        return orjson.dumps({"t": self.tweet, "m": self.metrics, "x": self.misses})

    @classmethod
    def decode(cls, raw: bytes | str) -> Tracked:
        value = orjson.loads(raw)
        return cls(tweet=value["t"], metrics=value.get("m") or {}, misses=int(value.get("x", 0)))


def newer(object_id: str, floor: int) -> bool:
    """``object_id`` is a number above ``floor`` (ids that are not numbers never are)."""
    return object_id.isdigit() and int(object_id) > floor


class EngagementStore(Protocol):
    async def load(
        self, stream_id: str, ids: Collection[str], floor: int | None
    ) -> dict[str, Tracked]:
        """The records of ``ids``, and with ``floor`` every record whose id is above it."""
        ...

    async def save(self, stream_id: str, put: Mapping[str, Tracked], drop: Collection[str]) -> None:
        """Write ``put``, delete ``drop``, keep the newest ``limit`` ids, renew the TTL.
        Saving the same again changes nothing (a retried poll is safe)."""
        ...


# Ids are decimal numbers without leading zeros: longer is larger, then by text.
_LOAD = """
-- KEYS: hash; ARGV: floor ('' for none), then ids
local want, ids = {}, {}
for i = 2, #ARGV do
  if not want[ARGV[i]] then want[ARGV[i]] = true; ids[#ids + 1] = ARGV[i] end
end
local floor = ARGV[1]
if floor ~= '' then
  for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do
    if not want[id] and (#id > #floor or (#id == #floor and id > floor)) then
      want[id] = true; ids[#ids + 1] = id
    end
  end
end
local out = {}
for i = 1, #ids, 500 do
  local part = {}
  for j = i, math.min(i + 499, #ids) do part[#part + 1] = ids[j] end
  local values = redis.call('HMGET', KEYS[1], unpack(part))
  for j, value in ipairs(values) do
    if value then out[#out + 1] = part[j]; out[#out + 1] = value end
  end
end
return out
"""

_SAVE = """
-- KEYS: hash; ARGV: limit, ttl, #puts, then (id, record) pairs, then ids to drop
local n = tonumber(ARGV[3])
local last = 3 + 2 * n
for i = 4, last, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = last + 1, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
local excess = redis.call('HLEN', KEYS[1]) - tonumber(ARGV[1])
if excess > 0 then
  local ids = redis.call('HKEYS', KEYS[1])
  table.sort(ids, function(a, b)
    if #a ~= #b then return #a < #b end
    return a < b
  end)
  for i = 1, excess do redis.call('HDEL', KEYS[1], ids[i]) end
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class RedisEngagementStore:
    """A hash per stream (``Keys.engagement``): tweet id -> :class:`Tracked` as JSON."""

    def __init__(self, redis: Redis, keys: Keys, *, limit: int, ttl: int) -> None:
        self._keys = keys
        self._limit = limit
        self._ttl = ttl
        self._load = redis.register_script(_LOAD)
        self._save = redis.register_script(_SAVE)

    async def load(
        self, stream_id: str, ids: Collection[str], floor: int | None
    ) -> dict[str, Tracked]:
        if not ids and floor is None:
            return {}
        args = ["" if floor is None else str(floor), *ids]
        flat = await self._load(keys=[self._keys.engagement(stream_id)], args=args)
        return {text(flat[i]): Tracked.decode(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def save(self, stream_id: str, put: Mapping[str, Tracked], drop: Collection[str]) -> None:
        args: list[Any] = [self._limit, self._ttl, len(put)]
        for object_id, record in put.items():
            args.extend((object_id, record.encode()))
        args.extend(drop)
        await self._save(keys=[self._keys.engagement(stream_id)], args=args)
