"""The "Push sources: source to log" section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import Section, _fmt, _header, _table, _usable, _verdict

GOAL = 20_000
"""Frames per second of herald's CPU the push runtime should take from source to log."""


def push_ingest(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "15. Push sources: source to log",
        "push_ingest",
        entry,
        "One process, one stream on herald's in-memory push source (no network: herald's side "
        "only — the bounded buffer, the source's decode, event building, and the batch script "
        "that appends the events with the connection's cursor). N items are published at once "
        "once the connection is open; the clock runs to the last event in the log. *per core* "
        "is frames per second of the process's own CPU (`time.process_time()`; Redis's CPU is "
        "not counted). Each frame becomes one event, so this is also events appended per "
        "second. The decode of real recordings is measured on its own in the Jetstream and "
        "WebSocket-feed sections.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    r = entry["results"]
    per_core = r["frames"] / r["cpuSeconds"] if r.get("cpuSeconds") else 0.0
    rows = [
        [
            _fmt(r["frames"]),
            _fmt(r["seconds"]),
            _fmt(r["framesPerSecond"]),
            _fmt(round(per_core)),
            _fmt(r["cpuMsPer1000Frames"]),
            f"≥ {GOAL:,}/s per core",
            _verdict(per_core >= GOAL),
        ]
    ]
    head = [
        "frames",
        "seconds",
        "frames/s wall",
        "frames/s per core",
        "CPU ms per 1,000 frames",
        "goal",
        "verdict",
    ]
    return lines + _table(head, rows)


SECTIONS: list[tuple[str, Section]] = [("push_ingest", push_ingest)]
