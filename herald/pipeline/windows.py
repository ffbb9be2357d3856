"""Windows by event time, closed by the watermark: tumbling, sliding, session.

A window ``[start, end)`` closes when the watermark reaches ``end``; until then it stays
open however long that takes. A stalled input holds the watermark back, so its windows
freeze instead of closing with a count of zero. Elements older than the watermark are late:
they go to the late side output and change nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from herald.pipeline.aggregates import Aggregate
from herald.pipeline.operators.base import Element, Operator, fmt_time


@dataclass(frozen=True, slots=True)
class Tumbling:
    """Back-to-back windows of ``size`` seconds, aligned to ``align`` (epoch 0 by default)."""

    size: float
    align: float = 0.0

    def __post_init__(self) -> None:
        if not self.size > 0:
            raise ValueError("a window's size must be > 0")

    def starts(self, when: float) -> list[float]:
        return [math.floor((when - self.align) / self.size) * self.size + self.align]

    def length(self) -> float:
        return self.size


@dataclass(frozen=True, slots=True)
class Sliding:
    """Windows of ``size`` seconds starting every ``step`` seconds (an item is in several)."""

    size: float
    step: float
    align: float = 0.0

    def __post_init__(self) -> None:
        if not (self.size > 0 and self.step > 0):
            raise ValueError("a sliding window's size and step must be > 0")
        if self.step > self.size:
            raise ValueError("a sliding window's step must not exceed its size")

    def starts(self, when: float) -> list[float]:
        last = math.floor((when - self.align) / self.step) * self.step + self.align
        found = []
        start = last
        while start > when - self.size:
            found.append(start)
            start -= self.step
        return sorted(found)

    def length(self) -> float:
        return self.size


@dataclass(frozen=True, slots=True)
class Session:
    """Activity separated by at least ``gap`` seconds of quiet; ends ``gap`` after the last."""

    gap: float

    def __post_init__(self) -> None:
        if not self.gap > 0:
            raise ValueError("a session gap must be > 0")


WindowSpec = Tumbling | Sliding | Session


def _single_key(_value: Any) -> str:
    return ""


class Window(Operator):
    """Folds values per (key, window) and emits ``{key, start, end, value}`` when it closes."""

    kind = "window"

    def __init__(
        self,
        spec: WindowSpec,
        aggregate: Aggregate,
        key: Callable[[Any], Any] | None = None,
        fill_empty: bool = False,
    ) -> None:
        super().__init__()
        if fill_empty and not isinstance(spec, Tumbling):
            raise ValueError("fill_empty is for tumbling windows")
        self.fill_empty = fill_empty
        # fill_empty: per key seen, the start of the next window still to emit.
        self.next_start: dict[str, float] = {}
        self.spec = spec
        self.agg = aggregate
        self.key = key or _single_key
        self.watermark: float | None = None
        # Fixed windows: (key, start) -> accumulator. Sessions: key -> [[time, value], ...].
        self.open: dict[tuple[str, float], Any] = {}
        self.sessions: dict[str, list[list[Any]]] = {}
        self.min_end = math.inf  # the earliest end of an open fixed window
        self.metrics.extra["late"] = 0.0

    def _value(self, el: Element) -> Any:
        return el.value

    def push(self, el: Element, now: float) -> list[Element]:
        if self.watermark is not None and el.time < self.watermark:
            self.ctx.late.append(el)
            self.metrics.dropped += 1
            self.metrics.extra["late"] += 1
            return []
        spec = self.spec
        agg = self.agg
        try:
            key = str(self.key(el.value))
            value = self._value(el)
            if isinstance(spec, Tumbling):  # the common case, without the list of starts
                start = math.floor((el.time - spec.align) / spec.size) * spec.size + spec.align
                acc = self.open.get((key, start))
                self.open[(key, start)] = agg.add(agg.zero() if acc is None else acc, value)
                self.min_end = min(self.min_end, start + spec.size)
                if self.fill_empty and key not in self.next_start:
                    self.next_start[key] = start
                return []
            if isinstance(spec, Session):
                self.sessions.setdefault(key, []).append([el.time, value])
                return []
            updates = {}
            for start in spec.starts(el.time):
                acc = self.open.get((key, start))
                updates[(key, start)] = agg.add(agg.zero() if acc is None else acc, value)
        except Exception as exc:
            self.fail(el, exc)
            return []
        self.open.update(updates)
        self.min_end = min(self.min_end, min(start for _, start in updates) + spec.size)
        return []

    def advance(self, now: float, watermark: float | None) -> list[Element]:
        if watermark is None or (self.watermark is not None and watermark <= self.watermark):
            return []
        self.watermark = watermark
        if isinstance(self.spec, Session):
            return self._close_sessions(watermark, self.spec.gap)
        if watermark < self.min_end:  # nothing can close yet: skip the scan
            return []
        size = self.spec.length()
        if self.fill_empty:
            return self._close_filled(watermark, size)
        due = sorted(
            ((start + size, start, key) for key, start in self.open if start + size <= watermark)
        )
        out = [
            el
            for end, start, key in due
            if (el := self._emit(key, start, end, self.open.pop((key, start)))) is not None
        ]
        self._recompute_min_end()
        return out

    def _close_filled(self, watermark: float, size: float) -> list[Element]:
        """Every window of every key seen, up to the watermark; one with no items emits the
        aggregate of nothing (a count of 0). Only a moving watermark gets here, so a
        stalled input never produces these zeros."""
        due: list[tuple[float, float, str]] = []
        for key, start in self.next_start.items():
            while start + size <= watermark:
                due.append((start + size, start, key))
                start += size
            self.next_start[key] = start
        due.sort()
        out = [
            el
            for end, start, key in due
            if (el := self._emit(key, start, end, self.open.pop((key, start), None))) is not None
        ]
        self._recompute_min_end()
        return out

    def _recompute_min_end(self) -> None:
        size = 0.0 if isinstance(self.spec, Session) else self.spec.length()
        starts = [start for _, start in self.open]
        if self.fill_empty:
            starts.extend(self.next_start.values())
        self.min_end = min(starts) + size if starts and size else math.inf

    def _close_sessions(self, watermark: float, gap: float) -> list[Element]:
        """Close the sessions that ended (last item + gap) at or before the watermark.

        A session ending later stays open with everything after it: an item still to come
        (at or after the watermark) could fall into its gap and join it to the next one.
        """
        closed: list[tuple[float, float, str, list[Any]]] = []
        for key in sorted(self.sessions):
            items = sorted(self.sessions[key], key=lambda item: float(item[0]))
            begin = 0
            for index in range(1, len(items) + 1):
                if index < len(items) and items[index][0] - items[index - 1][0] < gap:
                    continue
                end = items[index - 1][0] + gap
                if end > watermark:
                    break
                closed.append((end, items[begin][0], key, [i[1] for i in items[begin:index]]))
                begin = index
            if begin < len(items):
                self.sessions[key] = items[begin:]
            else:
                del self.sessions[key]
        out: list[Element] = []
        for end, start, key, values in sorted(closed, key=lambda c: (c[0], c[1], c[2])):
            acc = self.agg.zero()
            try:
                for value in values:
                    acc = self.agg.add(acc, value)
            except Exception as exc:
                self.fail(Element(values, end, self._origin(key, start, end)), exc)
                continue
            el = self._emit(key, start, end, acc)
            if el is not None:
                out.append(el)
        return out

    def _origin(self, key: str, start: float, end: float) -> str:
        return f"{self.id}[{fmt_time(start)},{fmt_time(end)}){key}"

    def _emit(self, key: str, start: float, end: float, acc: Any) -> Element | None:
        origin = self._origin(key, start, end)
        try:
            result = self.agg.result(self.agg.zero() if acc is None else acc)
        except Exception as exc:
            self.fail(Element(acc, end, origin), exc)
            return None
        if result is None and self.agg.skip_none:
            return None
        return Element({"key": key, "start": start, "end": end, "value": result}, end, origin)

    def flush(self) -> list[Element]:
        """End of input: close every window. With ``fill_empty``, quiet windows are filled
        only up to the last window that holds items (not on to infinity)."""
        if self.fill_empty and self.open:
            size = self.spec.length() if not isinstance(self.spec, Session) else 0.0
            last = max(start for _, start in self.open) + size
            out = self._close_filled(last, size)
            self.watermark = math.inf
            return out
        if self.fill_empty:
            self.watermark = math.inf
            return []
        return self.advance(math.inf, math.inf)

    def snapshot(self) -> Any:
        return {
            "watermark": self.watermark,
            "open": [[key, start, acc] for (key, start), acc in self.open.items()],
            "sessions": self.sessions,
            "next": self.next_start,
        }

    def restore(self, state: Any) -> None:
        if state is None:
            self.watermark, self.open, self.sessions, self.next_start = None, {}, {}, {}
        else:
            self.watermark = state["watermark"]
            self.open = {(str(key), float(start)): acc for key, start, acc in state["open"]}
            self.sessions = {str(k): list(v) for k, v in state["sessions"].items()}
            self.next_start = {str(k): float(v) for k, v in state["next"].items()}
        self._recompute_min_end()
