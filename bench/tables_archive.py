"""The "Archive: insert rate and search latency" section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import Section, _fmt, _header, _table, _usable, _verdict

GOAL_P99_MS = 100.0


def archive(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "23. Archive: insert rate and search latency",
        "archive",
        entry,
        "Events per second into the archive (`insert_many` of 1,000-event batches, what the "
        "writer does per batch), and search latency (50 hits, newest first, with highlights) "
        "over 1,000,000 archived events, SQLite FTS5 (a file, WAL) beside Postgres 15 (on "
        "loopback, `tsvector` + GIN). Texts are 8 to 30 words from a Zipf-distributed "
        "vocabulary of 20,000 words (`w3` is in most events, `w15000` in few). The goal is a "
        f"search p99 ≤ {GOAL_P99_MS:g} ms for every query kind.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    backends = res["backends"]
    names = [b["backend"] for b in backends]
    lines += _table(
        ["", *names],
        [
            ["events archived", *[_fmt(res["events"]) for _ in backends]],
            ["insert rate", *[_fmt(b["insert_per_s"], " events/s") for b in backends]],
        ],
    )
    by_query: dict[str, dict[str, dict[str, Any]]] = {}
    for b in backends:
        for q in b["queries"]:
            by_query.setdefault(q["query"], {})[b["backend"]] = q
    rows = []
    for label, per in by_query.items():
        q_text = next(iter(per.values()))["q"]
        row = [label, f"`{q_text}`" if q_text else "—"]
        for name in names:
            q = per.get(name)
            row.append(
                f"{_fmt(q['ms_median'], ' ms')} / {_fmt(q['ms_p99'], ' ms')} ({q['hits']})"
                if q
                else "—"
            )
        rows.append(row)
    lines += _table(["query", "q", *[f"{n}: median / p99 (hits)" for n in names]], rows)
    verdicts = ", ".join(
        f"{b['backend']} worst p99 {_fmt(b['worst_p99_ms'], ' ms')} — "
        f"{_verdict(b['worst_p99_ms'] <= GOAL_P99_MS)}"
        for b in backends
    )
    lines += [
        f"Goal: search p99 ≤ {GOAL_P99_MS:g} ms: {verdicts}. Building the archived form of "
        f"each event (text extraction from the catalog's payload keys) runs at "
        f"{_fmt(res['build_per_s'], ' events/s')}; {res['rounds']} runs of each query"
        + (
            f"; load average after the inserts: {', '.join(map(str, res['load_average']))}."
            if res.get("load_average")
            else ".",
        )[0],
        "",
    ]
    return lines


SECTIONS: list[tuple[str, Section]] = [("archive", archive)]
