"""The running-pipelines part of the "Pipelines" figures in docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import TIMES, Section, _fmt, _header, _table, _usable, _verdict


def pipeline_run(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "9. Pipelines on the log",
        "pipeline_run",
        entry,
        "A pipeline run by the runtime on Redis: read through its consumer group, three "
        "operators (the subscription keyword filter → a projection → a 10 s tumbling count "
        "per stream), then state, ack and outputs committed in one script per batch. The log "
        "is filled first; the figure is tweets committed per CPU second of the runner's "
        "process (*per core*; Redis's own CPU is not counted) and per second of wall time, "
        "with the runner pinned to one core. Beside it the same operators in one process on "
        "decoded records with no Redis (the ceiling). Lag: a producer process on the other "
        "core appends 10,000 tweets/s; a tweet's lag runs from its append (its entry id) to "
        "the return of the commit that acknowledged it, percentiles over every tweet after a "
        "warm-up second.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    goal = res["goal_rate"]
    rows = [
        [
            _fmt(r["batch"]),
            _fmt(r["events"]),
            _fmt(r["per_cpu_second"]),
            _fmt(r["per_second"]),
            _fmt(r["ceiling"]),
            _fmt(r["per_cpu_second"] / r["ceiling"] if r["ceiling"] else None, TIMES),
            f"≥ {goal:,}/s per core",
            _verdict(r["per_cpu_second"] >= goal),
        ]
        for r in res["rows"]
    ]
    lines += _table(
        [
            "batch",
            "tweets",
            "events/s per core",
            "events/s wall",
            "ceiling per core",
            "of ceiling",
            "goal",
            "verdict",
        ],
        rows,
    )
    lag = res["lag"]
    goal_lag = res["goal_lag_p99_ms"]
    lines += _table(
        ["rate asked", "rate reached", "tweets", "p50 ms", "p99 ms", "max ms", "goal", "verdict"],
        [
            [
                _fmt(lag["rate"]),
                _fmt(lag["achieved_rate"]),
                _fmt(lag["events"]),
                _fmt(lag["p50_ms"]),
                _fmt(lag["p99_ms"]),
                _fmt(lag["max_ms"]),
                f"p99 ≤ {goal_lag:g} ms",
                _verdict(lag["p99_ms"] <= goal_lag),
            ]
        ],
    )
    if res.get("load_average"):
        load = ", ".join(str(x) for x in res["load_average"])
        lines += [
            f"Load average on the 2-core machine during the run: {load}. The machine is shared "
            "and these figures move with its load (under a load average near 11 the same code "
            "made about 91,000/s per core and a p99 near 100 ms); every run is kept in "
            "`bench/results/pipeline_run.jsonl`.",
            "",
        ]
    return lines


SECTIONS: list[tuple[str, Section]] = [("pipeline_run", pipeline_run)]
