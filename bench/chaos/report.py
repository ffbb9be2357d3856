"""The chaos figures as tables: plain text on the terminal, Markdown in docs/benchmarks.md.

The "Reliability" section of docs/benchmarks.md is generated here from the latest
``bench/results/chaos-*.jsonl`` entries and replaces only that section of the page, so a
chaos run never regenerates the other benchmark tables (and ``python -m bench.report``
keeps the section by calling ``section()``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import ROOT

DOC = ROOT / "docs" / "benchmarks.md"
TITLE = "## Reliability"
SCENARIOS = {
    "workerkill": (
        "kill -9 of workers",
        "External Redis, one `herald serve --no-worker`, several `herald worker` processes "
        "and 20 tweet streams on the X stand-in at a 1 s interval. Tweets are posted to "
        "random users at a steady rate while a random worker is killed with SIGKILL every "
        "few seconds (and a new one started). Every posted tweet must be one "
        "`stream:tweet:new` in the log; detection = post time to the event's `detectedAt`.",
    ),
    "servekill": (
        "kill -9 of herald serve",
        "The embedded Valkey, one `herald serve` (with its worker), tweet streams on the "
        "stand-in. Tweets are posted at a steady rate while `herald serve` is killed with "
        "SIGKILL every few seconds and started again on the same data dir. Re-announced = a "
        "tweet event that was never posted (an old tweet announced again) or a second "
        "`stream:started` (a new baseline); resumed = streams whose last tweet arrived after "
        "the last restart.",
    ),
    "storm": (
        "reconnect storms",
        "One `herald serve --no-worker` on the external Redis; a producer appends "
        "`stream:tweet:new` events to the log at 200+ events/s while every client's "
        "connection is cut at the same moment every 2 s. Clients: the npm socket.io-client "
        "(WebSocket only, default transports, polling only; the seed's code that never "
        "subscribes, and `subscribe {since}`), `/ws` with `since`, SSE with `Last-Event-ID`. "
        "Each must receive every event after its start exactly once, in log order.",
    ),
    "burst": (
        "bursts larger than a page",
        "Tweets posted to one user between two polls, more than X's page of 20; then one "
        "poll (`POST /api/streams/{id}/poll`) and one more to be sure. Every tweet of the "
        "burst must be announced once; *gaps* counts `stream:gap` events (herald saying "
        "it skipped some), which are shown but do not excuse a loss.",
    ),
    "pipelinekill": (
        "kill -9 of a pipeline's owner",
        "External Redis, two or three `herald worker` processes declaring one pipeline (per "
        "stream a running count of tweets seen, and a 10 s tumbling count). A producer "
        "appends tweets to the log while the worker that owns the pipeline is killed with "
        "SIGKILL every few seconds, while it holds a batch read but not committed, and a new "
        "worker started. Expected = the same pipeline run uninterrupted over the same log: "
        "every per-tweet output once, same eventId and data, in input order.",
    ),
    "pushkill": (
        "kill -9 of a push connection's owner",
        "External Redis, `herald fakesky` (the Jetstream stand-in: cursor replay, its "
        "recorded frames) and three `herald worker` processes; `bsky:post` streams of three "
        "accounts share the one Jetstream connection. Posts are made at a steady rate "
        "through the stand-in's control API while the worker that owns the connection "
        "(`connection.owner`) is killed with SIGKILL every few seconds and a new worker "
        "started. Every post must be in the log once (by post URI and by eventId), in each "
        "stream's order. Takeover = kill to another worker holding the connection, "
        "connected; first append = kill to the next event in the log.",
    ),
    "webhookkill": (
        "kill -9 of a webhook endpoint's deliverer",
        "External Redis, `herald fakex`, `herald serve --no-worker` and two or three "
        "`herald worker` processes (they run the webhook consumers); two endpoints (every "
        "stream, half the streams) on a loopback receiver process that verifies every "
        "signature with `standardwebhooks.Webhook(secret).verify` and records each arrival. "
        "Tweets are posted at a steady rate while the worker holding an endpoint's lease is "
        "killed with SIGKILL every few seconds and a new worker started. Per endpoint, "
        "against the log: every matching `stream:tweet:new` must arrive (lost), first "
        "arrivals in log order (out of order); *duplicated* = repeat deliveries (resends "
        "with the same `webhook-id`), *twice* = distinct eventIds that arrived more than "
        "once. Delivery is at-least-once with one crash window, so resends up to *resends "
        "allowed* (one per kill of that endpoint's lease holder) pass, more fail. Takeover "
        "= kill to another worker holding the lease; first delivery = kill to the next "
        "arrival.",
    ),
}
COLUMNS = (
    ("name", "case"),
    ("expected", "expected"),
    ("received", "received"),
    ("lost", "lost"),
    ("duplicated", "duplicated"),
    ("out_of_order", "out of order"),
    ("reannounced", "re-announced"),
    ("gaps", "gaps"),
    ("detection_p50_ms", "detect p50 ms"),
    ("detection_p99_ms", "detect p99 ms"),
    ("detection_max_ms", "detect max ms"),
    ("resumed", "resumed"),
    ("reconnects", "reconnects"),
    ("kills", "kills"),
    ("takeover_p50_ms", "takeover p50 ms"),
    ("takeover_max_ms", "takeover max ms"),
    ("append_p50_ms", "first append p50 ms"),
    ("append_max_ms", "first append max ms"),
    ("twice", "twice"),
    ("resend_bound", "resends allowed"),
    ("unverified", "bad signatures"),
    ("delivery_p50_ms", "first delivery p50 ms"),
    ("delivery_max_ms", "first delivery max ms"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _grid(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Only the columns some row fills, plus the verdict."""
    used = [(k, h) for k, h in COLUMNS if any(r.get(k) is not None for r in rows)]
    head = [h for _, h in used] + ["verdict"]
    body = [[_cell(r.get(k)) for k, _ in used] + ["ok" if r["ok"] else "**FAIL**"] for r in rows]
    return head, body


def text_table(name: str, results: dict[str, Any]) -> str:
    """The terminal form: aligned columns, the parameters, the notes."""
    if "error" in results:
        return f"{name}: ERROR {results['error']}"
    head, body = _grid(results["rows"])
    body = [[c.replace("**", "") for c in row] for row in body]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [f"== {name}: {SCENARIOS[name][0]} ==", fmt.format(*head)]
    lines += [fmt.format(*row) for row in body]
    lines.append("params: " + json.dumps(results.get("params", {})))
    lines += [f"note: {n}" for n in results.get("notes", [])]
    lines += [f"note: {r['name']}: {n}" for r in results["rows"] for n in r.get("notes", [])]
    return "\n".join(lines)


def latest(results_dir: Path, name: str) -> dict[str, Any] | None:
    """The latest full run of a scenario, or the latest quick one when there is no full one."""
    path = results_dir / f"chaos-{name}.jsonl"
    if not path.exists():
        return None
    entries = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    full = [e for e in entries if not e.get("quick")]
    chosen: dict[str, Any] | None = (full or entries or [None])[-1]
    return chosen


def section(results_dir: Path) -> list[str]:
    """The Markdown "Reliability" section, from the latest result of each scenario."""
    lines = [
        TITLE,
        "",
        "Nothing lost, nothing twice, under crashes and reconnects. The ground truth is what "
        "the X stand-in was told to post (or what the producer appended); herald's log is read "
        "through `GET /api/events/log` with a cursor. Every figure must be 0 lost, 0 duplicated, "
        "0 out of order and 0 re-announced; `make chaos` exits non-zero otherwise, and "
        "`make chaos-quick` (smaller, under 5 minutes) fails CI.",
        "",
        "Commands: `make chaos` (every scenario, full size), `make chaos-quick`, or one "
        "scenario: `python -m bench.chaos --only NAME [--quick]`. Results are appended to "
        "`bench/results/chaos-NAME.jsonl`; this section is regenerated from them by "
        "`python -m bench.chaos.report`.",
        "",
        "Every scenario runs real processes on loopback (`herald serve`, `herald worker`, "
        "`herald fakex`, `herald fakesky`, npm and Python clients) on the machine described "
        "under Method, with "
        "`HERALD_MIN_INTERVAL=1` and `HERALD_POLL_TIMEOUT=5` (worker kills also "
        "`HERALD_RECONCILE_INTERVAL=2`); each stream polls with its own made-up session "
        "cookie, so that the stand-in's rate budget (500 calls per 15 minutes) is never the "
        "limit. The push scenario's workers read Jetstream from `herald fakesky` instead, with "
        "a 2 s connection lease. A kill is SIGKILL to the whole process group.",
        "",
    ]
    for number, (name, (title, what)) in enumerate(SCENARIOS.items(), 1):
        lines += [f"### R{number}. {title[0].upper()}{title[1:]}", "", what, ""]
        lines += [f"Command: `python -m bench.chaos --only {name}`", ""]
        entry = latest(results_dir, name)
        if entry is None:
            lines += ["_Not run yet._", ""]
            continue
        quick = " — **quick run**" if entry.get("quick") else ""
        lines += [f"Run {entry['timestamp']} on commit `{entry['commit']}`{quick}.", ""]
        res = entry["results"]
        if "error" in res:
            lines += [f"**Failed:** {res['error']}", ""]
            continue
        head, body = _grid(res["rows"])
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        lines += ["| " + " | ".join(row) + " |" for row in body]
        params = ", ".join(f"{k} {v}" for k, v in res.get("params", {}).items())
        lines += ["", f"Parameters: {params}.", ""]
        lines += [f"- {n}" for n in res.get("notes", [])]
        if res.get("notes"):
            lines.append("")
    return lines


def write(results_dir: Path, doc: Path = DOC) -> Path:
    """Replace the Reliability section of the page (or add it at the end)."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    start = text.find(TITLE + "\n")
    before = text if start < 0 else text[:start]
    after = ""
    if start >= 0:
        rest = text[start + len(TITLE) :]
        nxt = rest.find("\n## ")
        after = "" if nxt < 0 else rest[nxt + 1 :]
    body = "\n".join(section(results_dir)).rstrip() + "\n"
    doc.write_text(before.rstrip() + "\n\n" + body + ("\n" + after if after else ""))
    return doc


if __name__ == "__main__":
    from bench.common import DEFAULT_RESULTS

    print(f"wrote {write(DEFAULT_RESULTS)}")
