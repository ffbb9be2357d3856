"""A push platform for the benchmarks: ``benchfeed:item`` streams over herald's in-memory
push source (:mod:`herald.push.memory`), registered for the length of a scenario."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herald.events import EventType
from herald.push.memory import MemoryFeed, MemoryPushSource
from herald.sources.types import StreamType, Target

TYPE = "benchfeed:item"


def _target(value: object) -> str:
    return str(value)


def _options(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


STREAM_TYPES = (
    StreamType(
        name=TYPE,
        platform="benchfeed",
        summary="items of a benchmark feed",
        target=Target(description="a topic", example="news", validate=_target),
        diff="posts",
        new_event=EventType.MESSAGE_NEW,
        payload_key="message",
        payload=lambda message: dict(message),
        payload_schema={"type": "object"},
        options=_options,
        mode="push",
    ),
)


def build_source(settings: object, redis: object, keys: object) -> MemoryPushSource:
    return MemoryPushSource(MemoryFeed(), stream_types=(TYPE,))
