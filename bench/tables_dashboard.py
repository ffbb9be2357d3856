"""The dashboard's figures in docs/benchmarks.md: the page under a stream of events."""

from __future__ import annotations

from typing import Any

from bench.tables import Section, _fmt, _header, _table, _usable, _verdict


def dashboard(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "11. The dashboard under load",
        "dashboard",
        entry,
        "The dashboard in headless Chromium, subscribed to a real `herald serve` while the "
        "producer appends tweet events at a fixed rate. Renders per second are the page's "
        "own render-loop count, and drawing is the time its passes took per second of the "
        "run; the stall is the worst lateness of a 50 ms timer on the "
        "page's main thread; catch-up is how long after the producer's last append the page "
        "had received every event; CPU is Chromium's (all its processes) per second of the "
        "run, on the 2-core machine that also runs the server; the heap is the page's "
        "JavaScript heap after the run (its buffers are capped).",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    renders, stall = res["goal_renders_per_second"], res["goal_stall_ms"]
    rows = [
        [
            _fmt(r["rate"]),
            _fmt(r["achieved_rate"]),
            _fmt(r["events"]),
            _fmt(r["renders_per_second"]),
            _fmt(r["render_ms_per_second"]),
            _fmt(r["longest_render_ms"]),
            _fmt(r["max_stall_ms"]),
            _fmt(r["catch_up_ms"]),
            _fmt(r["chromium_cpu_per_second"]),
            _fmt(r["heap_mb"]),
            f"≤ {renders:g} renders/s, stall < {stall:g} ms",
            _verdict(r["renders_per_second"] <= renders and r["max_stall_ms"] < stall),
        ]
        for r in res["rows"]
    ]
    lines += _table(
        [
            "rate asked",
            "rate reached",
            "events",
            "renders/s",
            "drawing ms/s",
            "longest pass ms",
            "longest stall ms",
            "catch-up ms",
            "Chromium CPU s/s",
            "heap MB",
            "goal",
            "verdict",
        ],
        rows,
    )
    if res.get("load_average"):
        load = ", ".join(str(x) for x in res["load_average"])
        lines += [
            f"Load average on the 2-core machine after the run: {load}. The stall counts every "
            "delay of the page's main thread, the operating system's included, so it moves "
            "with the machine's load; every run is kept in `bench/results/dashboard.jsonl`.",
            "",
        ]
    return lines


SECTIONS: list[tuple[str, Section]] = [("dashboard", dashboard)]
