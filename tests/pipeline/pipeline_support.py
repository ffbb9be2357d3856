"""Helpers for the pipeline tests: records at chosen event times, runs in batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from herald.pipeline import Output, Pipeline, Record


def rec(offset: int, when: float, **event: Any) -> Record:
    """A record with log offset ``{offset}-0`` at event time ``when``."""
    body = {"type": "stream:tweet:new", "streamId": "s1", **event}
    return Record(f"{offset}-0", body, when)


def keys(outputs: Sequence[Output]) -> list[str]:
    return [o.key for o in outputs]


def values(outputs: Sequence[Output]) -> list[Any]:
    return [dict(o.data) for o in outputs]


async def run_batches(
    pipeline: Pipeline, batches: Sequence[tuple[Sequence[Record], float | None]]
) -> list[Output]:
    found: list[Output] = []
    for records, watermark in batches:
        found.extend(await pipeline.process(records, watermark))
    return found
