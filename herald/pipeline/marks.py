"""Per-stream watermarks of one refresh, for pipelines that evaluate parts of their input
separately (alert rules scoped to streams or platforms): each part closes its windows as far
as its own inputs have surely come, so a stalled feed holds back only the rules that read it.

Pure data (no store): the runtime fills it (:mod:`herald.pipeline.runtime.watermark`), the
alerts evaluator reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

NEVER = float("-inf")
"""The mark of an input that never succeeded: it holds everything back."""


@dataclass(frozen=True, slots=True)
class StreamMarks:
    """One refresh's marks: every input that holds the pipeline back, with its platform."""

    low: float | None
    """The minimum over every input (None: no progress), what a whole pipeline gets."""
    by_stream: Mapping[str, float] = field(default_factory=dict)
    """Mark of each active input (``-inf`` while it never succeeded)."""
    platform: Mapping[str, str] = field(default_factory=dict)
    by_platform: Mapping[str, float] = field(default_factory=dict)
    """The minimum of each platform's inputs."""

    @staticmethod
    def of(by_stream: Mapping[str, float], platform: Mapping[str, str]) -> StreamMarks:
        by_platform: dict[str, float] = {}
        for sid, mark in by_stream.items():
            name = platform.get(sid, "")
            if mark < by_platform.get(name, float("inf")):
                by_platform[name] = mark
        low = min(by_stream.values(), default=None)
        return StreamMarks(
            None if low is None or low == NEVER else low,
            dict(by_stream),
            dict(platform),
            by_platform,
        )

    def scoped(self, streams: frozenset[str], platforms: frozenset[str]) -> float | None:
        """The mark of a part of the input: the named streams (within ``platforms``), else
        the named platforms, else all. A part with no active input follows the whole."""
        marks: list[float] = []
        if streams:
            for sid in streams:
                mark = self.by_stream.get(sid)
                if mark is not None and (not platforms or self.platform.get(sid) in platforms):
                    marks.append(mark)
        elif platforms:
            marks = [self.by_platform[p] for p in platforms if p in self.by_platform]
        else:
            return self.low
        if not marks:
            return self.low
        low = min(marks)
        return None if low == NEVER else low


@runtime_checkable
class ScopedPipeline(Protocol):
    """A pipeline that takes each stream's mark, not only the minimum (the alerts)."""

    def set_marks(self, marks: StreamMarks) -> bool:
        """Use these marks for the next ``process``; True if they moved anything."""
        ...
