"""What the runtime needs to know about a declared pipeline, however it was declared.

A :class:`PipelineSpec` names the pipeline, builds a fresh :class:`~herald.pipeline.Pipeline`
on demand (every owner restores state into a new one) and says which part of the log it
reads and how its watermark moves. Declarations in Python (``module:function``) and YAML
both end up as one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from herald.errors import ConfigError
from herald.events import EventType
from herald.pipeline.core import Output, Pipeline, Record
from herald.store.pipelines import Pending

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
WatermarkMode = Literal["streams", "events"]


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError(
            f"pipeline name {str(name)[:64]!r} is not valid: 1-64 letters, digits, '_', '.', '-'"
        )
    return name


@dataclass(frozen=True, slots=True)
class PipelineSpec:
    """A declared pipeline.

    ``streams``: the stream ids it reads (``None``: every stream), which are also the inputs
    its watermark is taken from. ``types``: the event types it reads (``None``: every
    ``stream:*`` type). ``watermark``: ``streams`` (the last successful poll of every input
    minus ``skew``) or ``events`` (the newest event time seen minus ``skew``, for inputs
    that are not polled). ``start``: where a new consumer group begins, ``$`` (new events
    only) or ``0`` (everything the log holds).
    """

    name: str
    build: Callable[[], Pipeline]
    source: str = ""
    streams: frozenset[str] | None = None
    types: frozenset[str] | None = None
    skew: float | None = None
    watermark: WatermarkMode = "streams"
    start: str = "$"
    accept: Callable[[Record], bool] | None = field(default=None, compare=False)
    encode: Callable[[Output], Pending] | None = field(default=None, compare=False)
    """How an output becomes an event (default: a ``pipeline:output`` event); a pipeline
    with events of its own (alerts) derives their type and eventId here."""

    def __post_init__(self) -> None:
        check_name(self.name)

    def wants(self, record: Record) -> bool:
        """Whether the runtime feeds ``record`` to this pipeline."""
        event = record.event
        if event.get("streamId") == f"pipeline:{self.name}":
            return False  # never its own outputs: that would feed back forever
        etype = str(event.get("type", ""))
        if self.types is not None:
            if etype not in self.types:
                return False
        elif not etype.startswith("stream:"):
            # pipeline outputs (its own among them) only when asked for by type
            return False
        if self.streams is not None and str(event.get("streamId", "")) not in self.streams:
            return False
        return self.accept is None or self.accept(record)

    def declaration(self) -> dict[str, Any]:
        """What the status shows of how it was declared."""
        return {
            "source": self.source,
            "streams": sorted(self.streams) if self.streams is not None else None,
            "types": sorted(self.types) if self.types is not None else None,
            "skew": self.skew,
            "watermark": self.watermark,
            "start": self.start,
        }


def output_event_id(pipeline: str, key: str) -> str:
    """``pipeline.output:{key}@pipeline:{name}``: the same output always gets the same id."""
    from herald.events import event_id

    return event_id(EventType.PIPELINE_OUTPUT, key, f"pipeline:{pipeline}")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
OPTIONS = frozenset({"streams", "types", "skew", "watermark", "start"})


def duration(value: Any, what: str) -> float:
    """Seconds from ``30``, ``30s``, ``500ms``, ``5m``, ``1h``, ``1d``."""
    if isinstance(value, bool):
        raise ConfigError(f"{what} must be a duration such as 30s or 5m")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise ConfigError(
                f"{what} must be a duration such as 30s or 5m, not {str(value)[:40]!r}"
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise ConfigError(f"{what} must not be negative")
    return seconds


def _strings(value: Any, what: str) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{what} must be a non-empty list of strings")
    return frozenset(value)


def parse_options(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The runtime options of a declaration, checked; unknown names are the caller's concern."""
    from herald.delivery.subscription import event_types
    from herald.errors import ValidationError

    out: dict[str, Any] = {}
    if raw.get("streams") is not None:
        out["streams"] = _strings(raw["streams"], "streams")
    if raw.get("types") is not None:
        try:
            out["types"] = event_types(sorted(_strings(raw["types"], "types")))
        except ValidationError as exc:
            raise ConfigError(exc.detail) from None
    if raw.get("skew") is not None:
        out["skew"] = duration(raw["skew"], "skew")
    if raw.get("watermark") is not None:
        if raw["watermark"] not in ("streams", "events"):
            raise ConfigError("watermark must be 'streams' (polled inputs) or 'events'")
        out["watermark"] = raw["watermark"]
    if raw.get("start") is not None:
        start = str(raw["start"])
        named = {"latest": "$", "earliest": "0", "$": "$", "0": "0"}
        if start not in named and not re.match(r"^\d{1,20}-\d{1,20}$", start):
            raise ConfigError(
                "start must be latest, earliest or a log offset such as 1700000000000-0"
            )
        out["start"] = named.get(start, start)
    return out
