"""The ``ws:feed`` decode section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import TIMES, Section, _fmt, _header, _table, _usable, _verdict


def push_binance(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "12. WebSocket feeds: decode",
        "push_binance",
        entry,
        "Frames per CPU second a `ws:feed` source turns into changes, and CPU per 1,000 "
        "frames, over the recorded exchange sessions (read in place, never shipped). "
        "**decode**: the recorded frames handed to `WsFeedSource.decode` in batches of 100 in "
        "one process, as the push runtime hands them over; Binance's 265-frame session is "
        "replayed with a fresh source per pass (its trades are new each time, not dropped as "
        "replays); Coinbase's 9,950-frame session is mostly order-book frames no rule keeps, "
        "which still have to be parsed and matched. **wire**: the Coinbase session served by "
        "`herald fakews --max-speed --loop` (its own process and core), read off a real socket "
        "into a bounded buffer and decoded; the CPU is the reading process's only. No Redis: "
        "source to log is the push runtime's figure. *per core* is frames per CPU second "
        "(`time.process_time()`), the median of the runs (each listed).",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    rows = [
        [
            r["case"],
            f"{r['runs']}{TIMES}{_fmt(r['frames'])}",
            _fmt(r["changes"]),
            _fmt(r["frames_per_cpu_second"]),
            ", ".join(_fmt(x) for x in r["frames_per_cpu_second_runs"]),
            _fmt(r["frames_per_second_wall"]),
            _fmt(r["cpu_ms_per_1000"]),
            f"≥ {r['goal']:,}/s per core",
            _verdict(bool(r["meets_goal"])),
        ]
        for r in entry["results"]["rows"]
    ]
    head = [
        "case",
        f"runs {TIMES} frames",
        "changes per run",
        "frames/s per core",
        "each run",
        "frames/s wall",
        "CPU ms per 1,000 frames",
        "goal",
        "verdict",
    ]
    lines += _table(head, rows)
    load = entry["results"].get("load")
    if load:
        lines += [
            f"Load average on the 2-core machine during the run: {', '.join(map(str, load))}. "
            "*frames/s wall* moves with it; *per core* much less.",
            "",
        ]
    return lines


SECTIONS: list[tuple[str, Section]] = [("push_binance", push_binance)]
