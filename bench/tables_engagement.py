"""The "Poll cost: engagement and deletions" section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import Section, _fmt, _header, _table, _usable


def pollcost_engagement(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "16. Poll cost: engagement and deletions (X)",
        "pollcost_engagement",
        entry,
        "CPU of one poll of an X `tweet` stream reading the same 20-tweet page as the poll "
        "cost above, measured with `time.process_time()` in the polling process; median of "
        "many polls after the baseline; each case its own user and stream, the cases polled in "
        "turn. **tracking off**: `HERALD_TRACKED_TWEETS=0`, the "
        "poll without `stream:tweet:metrics` and `stream:tweet:deleted`. **nothing moved**: "
        "tracking on, the remembered tweets loaded (one script), nothing written, no event. "
        "**20 metrics events**: every tweet got one more like before each poll "
        "(outside the timed part), so each poll appends 20 `stream:tweet:metrics` events and "
        "rewrites 20 records.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    rows = [
        [
            r["case"],
            _fmt(r["polls"]),
            _fmt(r["events_per_poll"]),
            _fmt(r["cpu_ms_median"]),
            _fmt(r["wall_ms_median"]),
        ]
        for r in entry["results"]["rows"]
    ]
    lines += _table(["case", "polls", "events per poll", "CPU ms", "wall ms"], rows)
    load = entry["results"].get("load")
    if load is not None:
        lines += [
            f"Load average {load:.1f} when the run ended: a crowded machine raises every row; "
            "the difference between the rows is the cost of tracking.",
            "",
        ]
    return lines


SECTIONS: list[tuple[str, Section]] = [("pollcost_engagement", pollcost_engagement)]
