"""The push chaos scenario's platform and worker process.

``chaos:item`` streams read a feed served over a real WebSocket by the scenario
(:func:`herald.push.replay.serve_feed`), which replays from a cursor as Jetstream does.
``python -m bench.chaos.pushfeed`` is a herald worker with that one source: Settings from
the environment, the feed at ``CHAOS_FEED_URL``; it writes ``ready {worker id}`` to stderr
and runs until SIGTERM (or dies by SIGKILL, which is the point).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

from herald.config import Settings
from herald.errors import ValidationError
from herald.events import EventType
from herald.push.memory import MemoryFeed, MemoryPushSource
from herald.push.replay import FeedSocketSource
from herald.sources import catalog
from herald.sources.types import StreamType, Target

TYPE = "chaos:item"


def _topic(value: object) -> str:
    if not isinstance(value, str) or not value.strip().isalnum():
        raise ValidationError(f"target: {value!r} is not a topic (letters and digits)")
    return value.strip()


def _options(value: Mapping[str, Any]) -> dict[str, Any]:
    if value:
        raise ValidationError(f"options: unknown option(s) {', '.join(sorted(value))}")
    return {}


STREAM_TYPES = (
    StreamType(
        name=TYPE,
        platform="chaos",
        summary="items published to the push chaos scenario's feed",
        target=Target(description="a topic", example="a", validate=_topic, label="topic"),
        diff="posts",
        new_event=EventType.MESSAGE_NEW,
        payload_key="message",
        payload=lambda message: dict(message),
        payload_schema={"type": "object", "properties": {"id": {"type": "string"}}},
        options=_options,
        mode="push",
    ),
)


def build_source(settings: object, redis: object, keys: object) -> MemoryPushSource:
    """The catalog's default; the scenario's processes pass a :func:`source` instead."""
    return MemoryPushSource(MemoryFeed(), stream_types=(TYPE,))


def source(url: str) -> FeedSocketSource:
    return FeedSocketSource(url, stream_types=(TYPE,))


async def main() -> None:
    from herald.service import Herald  # the platform module stays light for the catalog

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    with catalog.platform(__name__ if __name__ != "__main__" else "bench.chaos.pushfeed"):
        feed = source(os.environ["CHAOS_FEED_URL"])
        async with Herald(Settings(), sources=[feed], delivery=False) as herald:
            assert herald.push is not None
            print(f"ready {herald.push.worker_id}", file=sys.stderr, flush=True)
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
