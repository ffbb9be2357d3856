"""The "Sentiment at ingest" section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import Section, _fmt, _header, _table, _usable, _verdict

KINDS = {
    "tweet": "X tweets and search results (`text`)",
    "post": "Mastodon statuses, English (`text`)",
    "entry": "feed entries (`title`)",
}


def sentiment(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "13. Sentiment at ingest",
        "sentiment",
        entry,
        "Microseconds of CPU per item (this thread's CPU time) for the VADER score every "
        "post-like item gets as its event is built (`herald.sentiment.scored`: language "
        "check, score, copy of the item), over the real texts of the recordings, each item "
        "timed on its own over every round. "
        "Beside it, stock VADER's `polarity_scores` on the same texts: herald's analyzer gives "
        "the same scores (a test holds them equal) without the step that re-lowercases the "
        "whole text for every sentiment word. Items in a language VADER does not read get no "
        "score and cost only the language check. The goal is ≤ 100 µs per item (the median); "
        "the p99 is the long posts (cost grows with the number of words, emoji expanded to "
        "their names; text beyond 2,000 characters is not read).",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    overall = res["overall"]
    goal = overall["target_us"]
    rows = [
        [
            KINDS.get(k["kind"], k["kind"]),
            _fmt(k["items"]),
            _fmt(round(k["chars_median"])),
            _fmt(k["us_median"], " µs"),
            _fmt(k["us_p99"], " µs"),
            _fmt(k["stock_us_median"], " µs"),
            _fmt(k["stock_us_p99"], " µs"),
            f"{k['other_language']} ({_fmt(k['other_language_us_median'], ' µs')})"
            if k["other_language"]
            else "0",
        ]
        for k in res["kinds"]
    ]
    rows.append(
        [
            "**all items**",
            _fmt(sum(k["items"] for k in res["kinds"])),
            "",
            _fmt(overall["us_median"], " µs"),
            _fmt(overall["us_p99"], " µs"),
            _fmt(overall["stock_us_median"], " µs"),
            _fmt(overall["stock_us_p99"], " µs"),
            "",
        ]
    )
    lines += _table(
        [
            "items",
            "scored",
            "median chars",
            "median",
            "p99",
            "stock VADER median",
            "stock VADER p99",
            "other language (cost)",
        ],
        rows,
    )
    lines += [
        f"Goal: ≤ {goal:g} µs per item (median) — {_verdict(overall['us_median'] <= goal)}; "
        f"{overall['rounds']} rounds"
        + (
            f"; load average during the run: {', '.join(str(x) for x in overall['load_average'])}."
            if overall.get("load_average")
            else "."
        ),
        "",
    ]
    return lines


SECTIONS: list[tuple[str, Section]] = [("sentiment", sentiment)]
