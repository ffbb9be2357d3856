"""The "Commands: entry points" section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import Section, _fmt, _header, _table, _usable


def command_entry(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "18. Commands: round trips per entry point",
        "command_entry",
        entry,
        "Milliseconds from sending an X write command (a like, then an unlike of the same "
        "tweet, in turn) to its final answer, one command at a time, over REST "
        "(`POST /api/commands`, the 200), `/ws` (`commands:{type}:v1:requested` to its "
        "`success` message) and Socket.IO (an emit to its ack), against a real `herald "
        "serve` acting on `herald fakex` (both their own processes on loopback). "
        '"Same commandId again" sends every command a second time: answered from the '
        "stored outcome, with no request to X (the stand-in's counter checks that X saw "
        "each command exactly once).",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    rows = [
        [
            r["entry"],
            r["kind"],
            _fmt(r["commands"]),
            _fmt(r["ms_median"], " ms"),
            _fmt(r["ms_p95"], " ms"),
        ]
        for r in res["rows"]
    ]
    lines += _table(["entry point", "command", "commands", "median", "p95"], rows)
    lines += [f"Requests X saw: {_fmt(res['x_requests'])} (one per new command).", ""]
    return lines


SECTIONS: list[tuple[str, Section]] = [("command_entry", command_entry)]
