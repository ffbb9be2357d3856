"""The "Poll cost: direct messages (X)" section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import Section, _fmt, _header, _table, _usable


def pollcost_dm(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "20. Poll cost: direct messages (X)",
        "pollcost_dm",
        entry,
        "CPU of one poll of an `x:dm` stream against the X stand-in (synthetic DM answers), "
        "measured with `time.process_time()` in the polling process; median of many polls "
        "after the baseline, each case its own stream. **quiet inbox**: one "
        "`dm/user_updates.json` request answered with the cursor alone, no event. **20 new "
        "DMs**: 20 messages sent before each poll (outside the timed part), one page of 20 "
        "entries read and 20 `stream:dm:new` events appended. **X tweet**: the `tweet` poll "
        "of section 6's kind (a 20-tweet timeline read again, nothing new), on the same run.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    rows = entry["results"]["rows"]
    tweet = next((r for r in rows if r["case"].startswith("X tweet")), None)
    table = []
    for r in rows:
        ratio = "—"
        if tweet is not None and tweet["cpu_ms_median"]:
            ratio = f"{r['cpu_ms_median'] / tweet['cpu_ms_median']:.2f}x"
        table.append(
            [
                r["case"],
                _fmt(r["polls"]),
                _fmt(r["events_per_poll"]),
                _fmt(r["cpu_ms_median"]),
                _fmt(r["wall_ms_median"]),
                ratio,
            ]
        )
    lines += _table(
        ["case", "polls", "events per poll", "CPU ms", "wall ms", "CPU vs X tweet"], table
    )
    load = entry["results"].get("load")
    if load is not None:
        lines += [f"Load average {load:.1f} when the run ended.", ""]
    return lines


SECTIONS: list[tuple[str, Section]] = [("pollcost_dm", pollcost_dm)]
