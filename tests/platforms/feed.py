"""A test-only push platform: ``feed:item`` streams over herald's in-memory push source.

Registered by the push tests with ``catalog.platform("tests.platforms.feed")``. The target
is a topic name (``*`` for every topic); ``options.connection`` picks which connection the
stream shares (streams with the same value share one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from herald.errors import ValidationError
from herald.events import EventType
from herald.push.memory import MemoryFeed, MemoryPushSource
from herald.sources.types import StreamType, Target

TOPIC = re.compile(r"^(\*|[a-z0-9-]{1,40})$")
TYPE = "feed:item"


def topic(value: object) -> str:
    if not isinstance(value, str) or not TOPIC.match(value.strip()):
        raise ValidationError(f"target: {value!r} is not a topic (a-z, 0-9, -; or *)")
    return value.strip()


def options(value: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(value) - {"connection"}
    if unknown:
        raise ValidationError(f"options: unknown option(s) {', '.join(sorted(unknown))}")
    if "connection" in value and not isinstance(value["connection"], str):
        raise ValidationError("options.connection: must be a string")
    return dict(value)


STREAM_TYPES = (
    StreamType(
        name=TYPE,
        platform="feed",
        summary="items published to a test feed's topic",
        target=Target(description="a topic", example="news", validate=topic, label="topic"),
        diff="posts",
        new_event=EventType.MESSAGE_NEW,
        payload_key="message",
        payload=lambda message: dict(message),
        payload_schema={"type": "object", "properties": {"id": {"type": "string"}}},
        options=options,
        option_docs={"connection": "streams with the same value share one connection"},
        mode="push",
    ),
)


def build_source(settings: object, redis: object, keys: object) -> MemoryPushSource:
    return MemoryPushSource(MemoryFeed(), stream_types=(TYPE,))
