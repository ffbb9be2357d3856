"""The one small event every fan-out peer sends: a real herald ``stream:tweet:new`` body."""

from __future__ import annotations

import time
from typing import Any

from herald.events import Event, EventType

STREAM_IDS = tuple(f"bench{i:02d}" for i in range(8))


def tweet_event(stream_id: str, object_id: str, seq: int | None = None) -> Event:
    """A tweet event as the poller would build it; ``benchTs``/``benchSeq`` ride along."""
    payload: dict[str, Any] = {
        "tweet": {
            "id": object_id,
            "text": "Benchmarks that put herald side by side with its peers #bench",
            "author": "benchuser",
            "authorName": "Bench User",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "url": f"https://x.com/benchuser/status/{object_id}",
            "isRetweet": False,
            "isReply": False,
        },
        "benchTs": time.time(),
    }
    if seq is not None:
        payload["benchSeq"] = seq
    return Event(EventType.TWEET_NEW, stream_id, "benchuser", object_id, payload)


def peer_body() -> dict[str, Any]:
    """The body the peers broadcast: the same fields as herald's, with an offset."""
    body = tweet_event(STREAM_IDS[0], "1900000000000000000").body()
    return {"offset": "1700000000000-0", **body}
