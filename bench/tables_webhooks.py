"""The "Webhooks" section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import Section, _fmt, _header, _table, _usable, _verdict


def webhooks(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "22. Webhooks: signed deliveries per process",
        "webhooks",
        entry,
        "One herald process (a worker, on Redis 7) delivers events already in the log to a "
        "loopback receiver in another process (HTTP/1.1 keep-alive on a raw asyncio protocol, "
        "answering 204), every request signed per Standard Webhooks and committed (offset "
        "and attempt record, one fenced script) before that endpoint's next event goes. One "
        "endpoint is strictly sequential (one request in flight); eight endpoints run side by "
        "side, each in order. *per second* is wall time from enabling the endpoints until "
        "the receiver has counted every delivery; *per CPU second* divides by the herald "
        "process's CPU time over the same span. The goal is ≥ 2,000 signed deliveries a "
        "second per process.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    goal = float(res["goal"])
    rows = [
        [
            _fmt(r["endpoints"]),
            _fmt(r["deliveries"]),
            _fmt(r["seconds"], " s"),
            _fmt(r["per_second"]),
            _fmt(r["per_cpu_second"]),
            _verdict(r["per_second"] >= goal),
            _verdict((r["per_cpu_second"] or 0) >= goal),
        ]
        for r in res["rounds"]
    ]
    lines += _table(
        [
            "endpoints",
            "deliveries",
            "wall",
            "per second",
            "per CPU second",
            "wall ≥ 2,000/s",
            "CPU ≥ 2,000/s",
        ],
        rows,
    )
    load = res.get("load")
    if load is not None:
        lines += [
            f"Load average of the machine when the run started: {load:.1f} on "
            f"{entry['machine']['cores']} cores, which the receiver and Redis share with "
            "herald. Each delivery is one HTTP exchange and one Redis script call, two "
            "round trips between processes; on a crowded machine each waits for the other "
            "process to be scheduled, so the wall rate measures the machine's scheduling "
            "as much as herald. The CPU column is herald's own cost: the rate its own CPU "
            "allows with a core to itself and a receiver and Redis that keep up (an upper "
            "bound, not measured as wall time here).",
            "",
        ]
    return lines


SECTIONS: list[tuple[str, Section]] = [("webhooks", webhooks)]
