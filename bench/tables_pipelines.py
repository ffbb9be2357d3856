"""The "Pipelines" section of docs/benchmarks.md (beside the per-scenario tables)."""

from __future__ import annotations

from typing import Any

from bench.tables import Section, _fmt, _header, _table, _usable, _verdict

RUNNERS = {
    "pipeline": "herald `Pipeline` (batches + watermark)",
    "stream": "herald `Stream` (async iterator)",
    "ceiling": "plain asyncio, hand-written (ceiling)",
}


def pipeline_ops(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "8. Pipelines",
        "pipeline_ops",
        entry,
        "Events per second through three operators (filter by event type → map to the stream "
        "id → tumbling 60 s window counting per stream) in one process, no Redis: herald's "
        "`Pipeline` fed log records in batches of 1,000 with a watermark (as the runtime "
        "drives it), herald's `Stream` over the same events one at a time, and a hand-written "
        "plain-asyncio loop doing the same work with no operator layer, the ceiling. Each "
        "run's window counts are checked against the others. *per core* is events per CPU "
        "second of the process (`time.process_time()`); *wall* depends on how busy the "
        "machine was. Medians over the rounds. The goal (read + 3 operators + commit on Redis, "
        "≥ 100,000/s per core) is the runtime's end-to-end figure; the in-process row shows "
        "the operators' share of it.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    goal = res["goal"]["per_second"]
    ceiling = next((r for r in res["rows"] if r["runner"] == "ceiling"), None)
    rows = []
    for row in res["rows"]:
        herald = row["runner"] != "ceiling"
        rows.append(
            [
                RUNNERS.get(row["runner"], row["runner"]),
                _fmt(row["events"]),
                _fmt(row["per_cpu_second"]),
                _fmt(row["per_second"]),
                _fmt(row["per_cpu_second"] / ceiling["per_cpu_second"]) if ceiling else "—",
                f"≥ {goal:,}/s per core end to end" if herald else "",
                f"{_verdict(row['per_cpu_second'] >= goal)} (operators alone)" if herald else "",
            ]
        )
    lines += _table(
        [
            "runner",
            "events",
            "events/s per core",
            "events/s wall",
            "of ceiling (per core)",
            "goal",
            "verdict",
        ],
        rows,
    )
    return lines


SECTIONS: list[tuple[str, Section]] = [("pipeline_ops", pipeline_ops)]
