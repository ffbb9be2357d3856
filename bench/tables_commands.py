"""The "Commands" section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import Section, _fmt, _header, _table, _usable, _verdict


def commands(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "17. Commands: X writes to the stand-in",
        "commands",
        entry,
        "Latency of one command from `submit` to its answer (`succeeded`), with `wait=True`, "
        "commands sent one after another by the commands service as a Herald builds it: "
        "validation, the write budget and the claim of its id in Redis 7, `command:requested`, "
        "the mutation to the X stand-in (its own process, over loopback), the outcome record "
        "and `command:succeeded`. *bare* is the same mutation sent with the X client alone: "
        "the difference is the engine's own cost. A repeated `commandId` is answered from "
        "the store and sends nothing.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    goal = res["goal_p95_ms"]
    rows = [
        [
            f"`{row['type']}`",
            _fmt(row["commands"]),
            _fmt(row["p50_ms"], " ms"),
            _fmt(row["p95_ms"], " ms"),
            _fmt(row["max_ms"], " ms"),
            _fmt(row["bare_p50_ms"], " ms"),
            _fmt(row["bare_p95_ms"], " ms"),
            _fmt(round(row["p50_ms"] - row["bare_p50_ms"], 2), " ms"),
            _verdict(row["p95_ms"] <= goal),
        ]
        for row in res["rows"]
    ]
    lines += _table(
        [
            "type",
            "commands",
            "p50",
            "p95",
            "max",
            "bare p50",
            "bare p95",
            "engine cost (p50)",
            f"p95 ≤ {goal:g} ms",
        ],
        rows,
    )
    repeat = res["repeat"]
    lines += [
        f"A repeated `commandId` ({_fmt(repeat['submits'])} submits): p50 "
        f"{_fmt(repeat['p50_ms'], ' ms')}, p95 {_fmt(repeat['p95_ms'], ' ms')}, nothing sent. "
        f"Load average during the run: {res['load']:.2f}.",
        "",
    ]
    return lines


SECTIONS: list[tuple[str, Section]] = [("commands", commands)]
