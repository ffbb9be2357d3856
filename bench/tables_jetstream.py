"""The "Push sources: Jetstream" figures in docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.common import median
from bench.tables import Section, _fmt, _header, _table, _usable, _verdict


def push_jetstream(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "14. Push sources: Jetstream decode",
        "push_jetstream",
        entry,
        "Bluesky's push source turning Jetstream frames into changes, as the push runtime "
        "calls it (batches of 256 frames; the follow map on Redis). The frames are the "
        "recording (`bluesky-jetstream/golden_v1.jsonl`: a post, a follow, a like, a repost, "
        "a block, a profile update, another app's records, identity and account) replayed with "
        "fresh times and keys, against 1,210 streams of the four `bsky:*` types; three of every "
        "ten frames become events. *decode*: the frames already in memory. *socket + decode*: "
        "received over a WebSocket from `herald fakesky` (its own process, the other core) "
        "with herald's subscription (posts and follows; the stand-in filters the rest, as "
        "Jetstream does), three events in every four frames. *socket + decode + log*: a whole "
        "herald (the push runtime holding the connection under its lease, every batch's events "
        "appended with its cursor in one script to the log on Redis; the alerts evaluator off), "
        "with those streams and with streams that watch nothing in the recording (*no hits*: "
        "what most of the public Jetstream is to a herald). Figures are frames per CPU second "
        "of herald's process (*per core*; Redis and the stand-in not counted), the median of "
        "the runs.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    goal = res["goal"]
    rows = []
    cases = ("decode", "socket + decode", "socket + decode + log, no hits", "socket + decode + log")
    for case in cases:
        runs = [r for r in res["rows"] if r["case"] == case]
        if not runs:
            continue
        rate = median([float(r["frames_per_cpu_s"]) for r in runs]) or 0.0
        per_1000 = median([float(r["cpu_ms_per_1000"]) for r in runs])
        rows.append(
            [
                case,
                _fmt(runs[0]["frames"]),
                _fmt(runs[0]["events"]),
                str(len(runs)),
                _fmt(round(rate)),
                _fmt(per_1000, " ms"),
                f"≥ {goal:,}/s per core",
                _verdict(rate >= goal),
            ]
        )
    lines += _table(
        [
            "case",
            "frames",
            "events",
            "runs",
            "frames/s per core",
            "CPU per 1,000 frames",
            "goal",
            "verdict",
        ],
        rows,
    )
    if "load" in res:
        load = ", ".join(str(x) for x in res["load"])
        lines += [
            f"Load average on the 2-core machine at the end of the run: {load}. The machine is "
            "shared; every run is kept in `bench/results/push_jetstream.jsonl`.",
            "",
        ]
    return lines


SECTIONS: list[tuple[str, Section]] = [("push_jetstream", push_jetstream)]
