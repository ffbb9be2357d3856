"""The "Alerts" section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import Section, _fmt, _header, _table, _usable, _verdict


def alerts(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "10. Alerts",
        "alerts",
        entry,
        "Evaluation cost: the alerts pipeline (the code the runtime runs, in one process, no "
        "Redis) with 1,000 rules over 10,000 streams on three platforms (800 scoped to 10 "
        "streams each: volume, sentiment, engagement; 150 to one platform; 50 keyword rules "
        "over every stream), fed tweets with sentiment and `stream:tweet:metrics` events in "
        "batches of 500 with the watermark 1 s behind, 60 s windows. *per core* is events per "
        "CPU second through `process` (ingest and window closes); a window close alone "
        "evaluates every rule; the snapshot is what each commit writes. Latency (Redis 7): "
        "the evaluator run by the runtime with the same 1,000 rules; a probe rule on one "
        "stream alternates between a window with a tweet and a quiet one; from the moment "
        "the poll that closes a window is recorded to the `alert:firing` / `alert:resolved` "
        "entry being readable in the log.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    cost = entry["results"]["cost"]
    lat = entry["results"]["latency"]
    lines += _table(
        [
            "rules",
            "streams",
            "events",
            "events/s per core",
            "µs per event",
            "window close (all rules)",
            "snapshot",
            "alert instances",
        ],
        [
            [
                _fmt(cost["rules"]),
                _fmt(cost["streams"]),
                _fmt(cost["events"]),
                _fmt(cost["per_cpu_second"]),
                _fmt(cost["us_per_event"]),
                _fmt(cost["window_close_ms"], " ms CPU"),
                f"{cost['snapshot_bytes'] / 1024:,.0f} KiB, {cost['snapshot_ms']:.1f} ms",
                _fmt(cost["instances"]),
            ]
        ],
    )
    lines += _table(
        ["window closes", "p50", "p95", "max", "goal", "verdict"],
        [
            [
                _fmt(lat["rounds"]),
                _fmt(lat["p50_ms"], " ms"),
                _fmt(lat["p95_ms"], " ms"),
                _fmt(lat["max_ms"], " ms"),
                f"≤ {lat['goal_s']:g} s after the window closes",
                _verdict(lat["p95_ms"] <= lat["goal_s"] * 1000),
            ]
        ],
    )
    marks = entry["results"].get("watermark")
    if marks:
        lines += [
            f"Watermark refresh at {marks['streams']:,} streams (Redis 7; the runtime "
            "refreshes every pipeline's every 0.25 s while it runs): *before*, every "
            "stream's whole record (`StreamStore.all`); *now*, the four state fields a mark "
            "needs in one round trip of a few script calls (`StreamStore.mark_states`). "
            "*scoped marks* "
            f"is the CPU of handing moved marks to the evaluator with {marks['rules']:,} "
            "rules (each rule's mark over its scope), median of "
            f"{marks['rounds']} rounds.",
            "",
        ]
        lines += _table(
            ["streams", "refresh before", "refresh now", "scoped marks"],
            [
                [
                    _fmt(marks["streams"]),
                    _refresh(marks["before"]),
                    _refresh(marks["after"]),
                    _fmt(marks["scoped_marks_cpu_ms"], " ms CPU"),
                ]
            ],
        )
    lines += [
        f"A quiet log wakes the evaluator every {lat['block_s']:g} s "
        "(`HERALD_ALERTS_BLOCK`), which bounds the latency of a window whose closing poll "
        "found nothing; a poll that appends events wakes it at once.",
        "",
    ]
    return lines


def _refresh(figures: dict[str, float]) -> str:
    return f"{figures['wall_ms']:,.1f} ms ({figures['cpu_ms']:,.1f} ms CPU)"


SECTIONS: list[tuple[str, Section]] = [("alerts", alerts)]
