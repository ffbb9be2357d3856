"""The event log: append-once, capped per-stream history, global log with retention.

One Lua script appends a whole batch of events for one stream atomically: for each event
it adds the eventId to the stream's eventid set with ``ZADD NX`` and, only if that was new,
``XADD``s the body to the global log and the stream's history and bumps the per-type
count. A crash between detecting a change and recording it therefore can neither lose the
event (the next poll detects it again) nor duplicate it (its eventId is already there).

The script touches the global log and a stream's keys together, so it needs a single Redis
node (or Valkey); on a Cluster the global log would need its own slot.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from herald.events import Event, decode
from herald.store.codec import stream_fields, text
from herald.store.keys import Keys
from herald.store.logreader import LogReader

_APPEND = """
-- KEYS: eventids, history, global log, state
-- ARGV: now_ms, history_max, log_max, eventids_max, ttl, stream_id, require_active,
--       then (eventId, type, body) triples
if ARGV[7] == '1' and redis.call('HGET', KEYS[4], 'status') ~= 'active' then
  return false
end
local out = {}
for i = 8, #ARGV, 3 do
  local eid, etype, body = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('ZADD', KEYS[1], 'NX', ARGV[1], eid) == 1 then
    local off = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*',
                           't', etype, 's', ARGV[6], 'e', body)
    redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], '*', 'o', off, 'e', body)
    redis.call('HINCRBY', KEYS[4], 'events:' .. etype, 1)
    out[#out + 1] = eid
    out[#out + 1] = off
  end
end
if #out > 0 then
  local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
  if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1) end
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
  if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('EXPIRE', KEYS[4], ARGV[5]) end
end
return out
"""


class StreamInactive(Exception):
    """The append was refused because the stream is no longer active (stopped mid-poll)."""


@dataclass(frozen=True, slots=True)
class Appended:
    event_id: str
    offset: str


class EventLog(LogReader):
    """Append events, and read them (every read of the global log is a
    :class:`~herald.store.logreader.LogReader` method). Stateless apart from the script."""

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
        super().__init__(redis, keys.events)
        self._keys = keys
        self._history_size = history_size
        self._log_maxlen = log_maxlen
        self._ttl = ttl
        self._event_ids_kept = max(event_ids_kept, history_size)
        self._append = redis.register_script(_APPEND)

    async def append(
        self, stream_id: str, events: Sequence[Event], *, require_active: bool = False
    ) -> list[Appended]:
        """Append events of one stream, once each; returns those that were new, in order."""
        if not events:
            return []
        k = self._keys
        args: list[Any] = [
            _now_ms(),
            self._history_size,
            self._log_maxlen,
            self._event_ids_kept,
            self._ttl,
            stream_id,
            "1" if require_active else "0",
        ]
        for event in events:
            args.extend((event.event_id, event.type.value, event.encode()))
        result = await self._append(
            keys=[k.event_ids(stream_id), k.history(stream_id), k.events, k.state(stream_id)],
            args=args,
        )
        if result is None:
            raise StreamInactive(stream_id)
        pairs = [text(x) for x in result]
        return [Appended(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)]

    async def history(self, stream_id: str, limit: int) -> list[dict[str, Any]]:
        """The stream's recent events, newest first."""
        entries = await self._redis.xrevrange(self._keys.history(stream_id), count=limit)
        out = []
        for entry in entries or []:
            body = stream_fields(entry)
            out.append(decode(body[b"e"], body[b"o"]))
        return out

    async def read(self, after: str | None, count: int = 1000) -> list[dict[str, Any]]:
        """The parsed bodies of :meth:`after` (for callers that want plain dicts)."""
        return [dict(entry.body) for entry in await self.after(after, count)]


def _now_ms() -> int:
    return int(time.time() * 1000)
