"""Replay a part of the global log: ``XRANGE`` paced by the gaps between entry ids.

``replay(store, from, to, speed)`` yields the log's records from ``from`` to ``to`` at
``realtime``, ``xN`` or ``max`` speed. Pacing waits on an injected clock (``sleep_until``),
so a test replays "an hour" instantly with a :class:`~herald.pipeline.VirtualClock`. With
:func:`dry_run` a pipeline's code runs fresh over yesterday's log: the way to test a change
before it goes live, and what ``herald pipelines replay`` shows.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import orjson

from herald.errors import ValidationError
from herald.pipeline.clock import Clock, SystemClock
from herald.pipeline.core import Output, Record
from herald.pipeline.runtime.spec import PipelineSpec, duration
from herald.store.pipelines import PipelineStore

_OFFSET = re.compile(r"^\d{1,20}-\d{1,20}$")
_TIMES = "x\u00d7"  # x or the multiplication sign
_SPEED = re.compile(rf"^(?:[{_TIMES}]\s*(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*[{_TIMES}]?)$")
MAX_SEQ = "18446744073709551615"


def parse_bound(value: Any, what: str, *, end: bool, now: float | None = None) -> str:
    """A log offset (``1700000000000-0``), a time (ISO 8601 or epoch seconds) or a time
    ago (``-24h`` or ``24h``), as an ``XRANGE`` bound; a time takes the whole millisecond."""
    text = str(value).strip()
    if _OFFSET.match(text):
        return text
    when: float
    try:
        if text.startswith("-") or re.match(r"^\d+(\.\d+)?\s*(ms|s|m|h|d)$", text):
            ago = duration(text.removeprefix("-"), what)
            when = (now if now is not None else time.time()) - ago
        elif re.match(r"^\d+(\.\d+)?$", text):
            when = float(text)
        else:
            when = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, Exception) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(
            f"{what} must be a log offset (1700000000000-0), a time (ISO 8601 or epoch "
            f"seconds) or a time ago (-24h), not {text[:40]!r}"
        ) from None
    ms = max(int(when * 1000), 0)
    return f"{ms}-{MAX_SEQ}" if end else f"{ms}-0"


def parse_speed(value: str | float | None) -> float:
    """``realtime`` = 1, ``x10`` / ``10x`` / ``10`` = 10, ``max`` = no pacing."""
    if value is None:
        return math.inf
    if isinstance(value, int | float) and not isinstance(value, bool):
        speed = float(value)
    else:
        text = str(value).strip().lower()
        if text == "max":
            return math.inf
        if text == "realtime":
            return 1.0
        match = _SPEED.match(text)
        if match is None:
            raise ValidationError(
                f"speed must be realtime, max or xN such as x10, not {text[:20]!r}"
            )
        speed = float(match.group(1) or match.group(2))
    if not speed > 0:
        raise ValidationError("speed must be more than 0")
    return speed


def _ms(offset: str) -> int:
    return int(offset.partition("-")[0])


async def replay(
    store: PipelineStore,
    start: str,
    end: str = "+",
    speed: float = math.inf,
    *,
    clock: Clock | None = None,
    page: int = 1000,
) -> AsyncIterator[Record]:
    """The records from ``start`` to ``end`` (inclusive), paced ``speed`` times real time."""
    clock = clock or SystemClock()
    first: tuple[int, float] | None = None
    cursor = start
    while True:
        entries = await store.range(cursor, end, page)
        for offset, body in entries:
            if math.isfinite(speed):
                if first is None:
                    first = (_ms(offset), clock.now())
                else:
                    await clock.sleep_until(first[1] + (_ms(offset) - first[0]) / 1000 / speed)
            event = orjson.loads(body)
            event["offset"] = offset
            yield Record.of(offset, event)
        if len(entries) < page:
            return
        cursor = f"({entries[-1][0]}"


async def dry_run(
    store: PipelineStore,
    spec: PipelineSpec,
    start: str,
    end: str = "+",
    *,
    skew: float = 10.0,
    batch: int = 500,
    max_entries: int = 1_000_000,
) -> tuple[list[Output], int]:
    """Run ``spec``'s code fresh over a part of the log; (outputs, entries read).

    History holds no poll times, so the watermark is event time: the newest event time seen
    minus the skew; at the end every window closes (the input is over).
    """
    pipeline = spec.build()
    skew = spec.skew if spec.skew is not None else skew
    outputs: list[Output] = []
    newest = -math.inf
    read = 0
    chunk: list[Record] = []

    async def feed() -> None:
        nonlocal newest
        for record in chunk:
            newest = max(newest, record.time)
        mark = newest - skew if math.isfinite(newest) else None
        outputs.extend(await pipeline.process(chunk, mark))
        chunk.clear()

    async for record in replay(store, start, end):
        read += 1
        if spec.wants(record):
            chunk.append(record)
        if len(chunk) >= batch:
            await feed()
        if read >= max_entries:
            break
    await feed()
    outputs.extend(await pipeline.drain())
    return outputs, read
