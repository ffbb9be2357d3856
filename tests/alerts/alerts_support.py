"""Shared pieces of the alerts tests: items and polls on a real log, alert events read back."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis

from herald.alerts.host import AlertsHost
from herald.alerts.service import AlertsManager
from herald.events import Event, EventType
from herald.store.alerts import RedisAlertStore
from herald.store.eventlog import EventLog
from herald.store.keys import Keys
from herald.store.pipelines import PipelineStore
from herald.store.streams import StreamRecord, StreamStore

T0 = 1_700_000_040.0 - 1_700_000_040.0 % 60  # a window boundary
ALERT_TYPES = (b"alert:firing", b"alert:resolved")


def stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def tweet(stream: str, n: int, at: float, *, text: str = "hello", compound: float = 0.0) -> Event:
    return Event(
        EventType.TWEET_NEW,
        stream,
        f"user{stream}",
        str(n),
        {
            "tweet": {
                "id": str(n),
                "text": f"{text} {n}",
                "author": "a",
                "timestamp": stamp(at),
                "sentiment": {"compound": compound, "label": "neutral"},
            }
        },
        platform="x",
    )


def stream_error(stream: str, n: int, at: float) -> Event:
    return Event(
        EventType.ERROR,
        stream,
        f"user{stream}",
        f"e{n}",
        {"error": "timeout", "consecutiveErrors": n},
        detected_at=stamp(at),
        platform="x",
    )


@dataclass
class World:
    """A log, streams whose polls the test moves, the alerts service and its evaluator."""

    redis: Redis
    keys: Keys
    log: EventLog
    streams: StreamStore
    pipelines: PipelineStore
    rules: RedisAlertStore
    service: AlertsManager

    def host(self) -> AlertsHost:
        return AlertsHost(
            self.rules, self.pipelines, self.streams, skew=0.0, lease_ttl=2.0, block=0.05
        )

    async def add_stream(self, sid: str) -> None:
        await self.streams.create(StreamRecord(sid, "tweet", sid, 60.0, 1.0))

    async def polled(self, sid: str, at: float) -> None:
        """A successful poll that started at ``at``: the stream's watermark moves there."""
        await self.streams.set_state(
            sid, {"lastPoll": repr(at), "consecutiveErrors": 0, "lastError": ""}
        )

    async def failing(self, sid: str, at: float, n: int) -> None:
        """A failed poll at ``at``: the stream is in backoff, its watermark frozen; the error
        event goes to the log as the poller writes it."""
        await self.streams.set_state(
            sid, {"lastPoll": repr(at), "consecutiveErrors": n, "lastError": "timeout"}
        )
        await self.log.append(sid, [stream_error(sid, n, at)])

    async def alerts(self) -> list[dict[str, Any]]:
        """Every alert event in the log, in log order."""
        found = []
        for offset, fields in await self.redis.xrange(self.keys.events):
            if fields[b"t"] in ALERT_TYPES:
                body = orjson.loads(fields[b"e"])
                body["offset"] = offset.decode()
                found.append(body)
        return found

    async def status(self, rule_id: str) -> dict[str, Any]:
        return dict((await self.service.get_rule(rule_id))["status"])

    async def committed(self) -> str:
        """The offset the evaluator last committed (its batch is acked and applied)."""
        state = await self.pipelines.load("alerts")
        return state.offset or "0-0"


@asynccontextmanager
async def world(redis: Redis, keys: Keys) -> AsyncIterator[World]:
    pipelines = PipelineStore(redis, keys, log_maxlen=1_000_000)
    rules = RedisAlertStore(redis, keys)
    yield World(
        redis,
        keys,
        EventLog(redis, keys, log_maxlen=1_000_000),
        StreamStore(redis, keys, ttl=3600),
        pipelines,
        rules,
        AlertsManager(rules, pipelines, skew=0.0),
    )
    await pipelines.delete("alerts")


def duplicates(events: list[dict[str, Any]]) -> list[str]:
    return [eid for eid, n in Counter(e["eventId"] for e in events).items() if n > 1]


def offset_key(offset: str) -> tuple[int, int]:
    ms, _, seq = offset.partition("-")
    return int(ms), int(seq)
