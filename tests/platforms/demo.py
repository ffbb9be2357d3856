"""A test-only platform: one stream type entry and a tiny in-memory source.

It is what a new platform module looks like (``STREAM_TYPES`` + ``build_source``), and
nothing else in herald knows about it: tests register it with
``herald.sources.catalog.platform("tests.platforms.demo")`` and then start, poll and
watch ``demo:thing`` streams over REST, ``/ws``, the CLI and the dashboard.

A "box" (the target) holds things; :data:`WORLD` is shared by every source this module
builds, so a test adds things to a box and the next poll sees them.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from herald.errors import ValidationError
from herald.events import EventType
from herald.sources.base import FetchResult, PollContext
from herald.sources.types import StreamType, Target

BOX = re.compile(r"^[a-z]{1,20}$")


@dataclass(frozen=True, slots=True)
class Thing:
    id: str
    text: str
    author: str
    pinned: bool = False

    @property
    def order(self) -> int:
        return int(self.id)


class World:
    """The boxes and their things, newest first."""

    def __init__(self) -> None:
        self.boxes: defaultdict[str, list[Thing]] = defaultdict(list)
        self._ids = itertools.count(1)

    def add(self, box: str, text: str, author: str = "someone") -> Thing:
        thing = Thing(id=str(next(self._ids)), text=text, author=author)
        self.boxes[box].insert(0, thing)
        return thing


WORLD = World()


def box(value: object) -> str:
    if not isinstance(value, str) or not BOX.match(value.strip()):
        raise ValidationError(f"target: {value!r} is not a box name (1-20 lowercase letters)")
    return value.strip()


def _payload(thing: Thing) -> dict[str, Any]:
    return {"id": thing.id, "text": thing.text, "author": thing.author}


STREAM_TYPES = (
    StreamType(
        name="demo:thing",
        platform="demo",
        summary="new things in a demo box",
        target=Target(
            description="a box name: 1-20 lowercase letters",
            example="attic",
            validate=box,
            pattern=BOX.pattern,
            label="box",
        ),
        diff="posts",
        new_event=EventType.POST_NEW,
        payload_key="post",
        payload=_payload,
        payload_schema={
            "type": "object",
            "required": ["id", "text", "author"],
            "properties": {k: {"type": "string"} for k in ("id", "text", "author")},
        },
    ),
)


class DemoSource:
    stream_types: tuple[str, ...] = ("demo:thing",)

    def __init__(self, world: World) -> None:
        self.world = world

    async def fetch(self, ctx: PollContext) -> FetchResult:
        return FetchResult(items=self.world.boxes[ctx.username][:20])

    async def aclose(self) -> None:
        return None


def build_source(settings: object, redis: object, keys: object) -> DemoSource:
    return DemoSource(WORLD)
