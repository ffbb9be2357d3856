"""Pipelines for the runtime tests, importable as ``module:function`` by ``herald worker``.

``exactly_once``: per stream, a running count of what it has seen (state that a reset or a
double-applied batch would visibly break) plus a 10 s tumbling count window, with a little
work per item so a kill lands mid-batch.
"""

from __future__ import annotations

import os
import time
from typing import Any

from herald.pipeline import Agg, Flow, Pipeline, Tumbling
from herald.pipeline.runtime import PipelineSpec


def _count(state: Any, event: Any) -> tuple[Any, Any]:
    seen = int(state or 0) + 1
    return seen, {"streamId": event["streamId"], "eventId": event["eventId"], "seen": seen}


def _work(event: Any) -> Any:
    delay = float(os.environ.get("TEST_PIPELINE_ITEM_DELAY", "0"))
    if delay:
        time.sleep(delay)  # a slow user function, so that a kill lands mid-batch
    return event


def counting_flow() -> Flow:
    return (
        Flow()
        .map(_work)
        .fork(
            seen=lambda f: f.stateful(lambda e: e["streamId"], _count).emit("seen"),
            volume=lambda f: f.window(Tumbling(10)).aggregate(Agg.count()).emit("volume"),
        )
    )


def exactly_once() -> PipelineSpec:
    return PipelineSpec(
        name="chaos",
        build=lambda: Pipeline("chaos", counting_flow()),
        watermark="events",
        skew=0,
        start="0",
        types=frozenset({"stream:tweet:new"}),
    )


def failing() -> PipelineSpec:
    """Raises on every tweet whose text says "boom": those become dead letters."""

    def check(event: Any) -> Any:
        if "boom" in event["tweet"]["text"]:
            raise ValueError(f"boom in {event['tweet']['id']}")
        return {"id": event["tweet"]["id"]}

    return PipelineSpec(
        name="failing",
        build=lambda: Pipeline("failing", Flow().map(check), output="checked"),
        watermark="events",
        skew=0,
        start="0",
    )
