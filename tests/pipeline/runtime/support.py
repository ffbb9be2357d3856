"""Shared pieces of the runtime tests: a log filled with tweets, outputs read back."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis

from herald.events import Event, EventType
from herald.store.eventlog import EventLog
from herald.store.keys import Keys

T0 = 1_700_000_000.0  # event times of the recorded log start here


def tweet(stream: str, n: int, *, at: float, text: str = "hello") -> Event:
    stamp = datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")
    return Event(
        EventType.TWEET_NEW,
        stream,
        f"user{stream}",
        str(n),
        {"tweet": {"id": str(n), "text": f"{text} {n}", "author": "a", "timestamp": stamp}},
    )


async def fill(
    redis: Redis, keys: Keys, count: int, *, streams: int = 3, step: float = 0.1, start: int = 0
) -> list[str]:
    """``count`` tweets, event times ``step`` s apart and in log order, in runs of 10 per
    stream over ``streams`` streams; their offsets."""
    log = EventLog(redis, keys, log_maxlen=1_000_000)
    offsets: list[str] = []
    for first in range(start, start + count, 10):
        sid = f"s{(first // 10) % streams}"
        run = [
            tweet(sid, n, at=T0 + n * step) for n in range(first, min(first + 10, start + count))
        ]
        offsets.extend(a.offset for a in await log.append(sid, run))
    return offsets


async def outputs(redis: Redis, keys: Keys, pipeline: str) -> list[dict[str, Any]]:
    """Every pipeline:output event of ``pipeline`` in the global log, in log order."""
    found = []
    for _offset, fields in await redis.xrange(keys.events):
        if (
            fields.get(b"s") == f"pipeline:{pipeline}".encode()
            and fields[b"t"] == b"pipeline:output"
        ):
            found.append(orjson.loads(fields[b"e"]))
    return found


def duplicates(events: list[dict[str, Any]]) -> list[str]:
    return [eid for eid, n in Counter(e["eventId"] for e in events).items() if n > 1]
