"""One Markdown section per scenario: what was measured, the figures, the goal, a verdict."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Section = Callable[[dict[str, Any] | None, dict[str, str]], list[str]]
MEETS, SHORT = "meets", "**falls short**"
TIMES = "\u00d7"  # the multiplication sign


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return f"{value}{unit}"


def _verdict(ok: bool) -> str:
    return MEETS if ok else SHORT


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def _header(title: str, name: str, entry: dict[str, Any] | None, what: str) -> list[str]:
    lines = [f"## {title}", "", what, "", f"Command: `python -m bench --only {name}`", ""]
    if entry is None:
        return [*lines, "_Not run yet._", ""]
    res = entry["results"]
    stamp = f"Run {entry['timestamp']} on commit `{entry['commit']}`"
    lines.append(stamp + (" — **quick run** (smoke-test sizes)." if entry.get("quick") else "."))
    lines.append("")
    if "skipped" in res and isinstance(res["skipped"], str):
        lines += [f"**Skipped:** {res['skipped']}", ""]
    if "error" in res:
        lines += [f"**Failed:** {res['error']}", ""]
    return lines


def _usable(entry: dict[str, Any] | None) -> bool:
    if entry is None:
        return False
    res = entry["results"]
    return "error" not in res and not isinstance(res.get("skipped"), str)


def _image(images: dict[str, str], key: str, alt: str) -> list[str]:
    return [f"![{alt}]({images[key]})", ""] if key in images else []


def ingest(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "1. Ingest",
        "ingest",
        entry,
        "Events appended to the log per second by one process through `EventLog.append` "
        "(one Lua call per batch: idempotency check, global log, stream history), several "
        "calls in flight. Building and encoding the events is included. The goal is for "
        "pipelined appends, that is batches; batch size 1 (one call per event) is shown for "
        "contrast.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    goal = res["goal"]
    rows = [
        [
            r["batch"],
            r["in_flight"],
            _fmt(r["per_second"]),
            f"≥ {goal:,}" if r["batch"] > 1 else "",
            _verdict(r["per_second"] >= goal) if r["batch"] > 1 else "— (not batched)",
        ]
        for r in res["rows"]
    ]
    lines += _table(["batch size", "in flight", "events/s", "goal", "verdict"], rows)
    dup = res.get("duplicates")
    if dup:
        lines += [
            f"Re-appending events already in the log (batches of {dup['batch']}): "
            f"{_fmt(dup['per_second'])} events/s, {dup['new']} appended (must be 0).",
            "",
        ]
    return lines + _image(images, "ingest", "events/s by batch size")


def fanout(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "2. Fan-out",
        "fanout",
        entry,
        "Deliveries per second from one server process pinned to one core, to N clients, "
        "for a burst of small `stream:tweet:new` events. herald's Socket.IO is paired with "
        "Node socket.io 4, herald's `/ws` with a bare `websockets.broadcast` server; both "
        "servers of a pair hold their clients at once and take turns. herald's events come "
        "from a separate producer process appending to the log in Redis (100 events per "
        "append); the peers emit on an HTTP trigger. herald writes the frames of all the "
        "events one log read brings to each client with a single socket write, built once "
        "per group of clients, where the peers write each event to each client on its own: "
        "that coalescing is where most of herald's lead comes from (the latency table below "
        "shows events arriving one at a time). The goal applies at 1,000 clients.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    peer = {"socketio": "Node socket.io", "ws": "websockets.broadcast"}
    rows = []
    for r in res["rows"]:
        ratio = r.get("ratio_median")
        goal = r["goal_ratio"]
        verdict = "—" if ratio is None else _verdict(ratio >= goal)
        if r["clients"] != 1000 and ratio is not None:
            verdict += " (goal set at 1,000)"
        cut = sum(x["disconnected"] for x in r["herald"])
        rows.append(
            [
                "Socket.IO" if r["transport"] == "socketio" else "`/ws`",
                _fmt(r["clients"]),
                r["burst"],
                _fmt(r["herald_median"]),
                f"{_fmt(r['peer_median'])} ({peer[r['transport']]})",
                _fmt(ratio, TIMES),
                f"≥ {goal}{TIMES}",
                verdict,
                cut,
            ]
        )
    lines += _table(
        [
            "transport",
            "clients",
            "burst",
            "herald /s",
            "peer /s",
            "ratio",
            "goal",
            "verdict",
            "herald cut-offs",
        ],
        rows,
    )
    for what, reason in (res.get("skipped") or {}).items():
        lines += [f"**Skipped peer {what}:** {reason}", ""]
    return lines + _image(images, "fanout", "deliveries/s by number of clients")


def latency(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "3. Latency",
        "latency",
        entry,
        "Time from the log append (timestamp taken by the producer just before the append, "
        "carried in the event) to the frame arriving at a Socket.IO client, same machine "
        "clock, 100 clients, events appended at a steady rate. The goal applies at 1,000 "
        "events/s. *client CPU* is the load clients' share of a core: near or above 1, the "
        "Python clients cannot read as fast as herald sends, and herald cuts off those that "
        "fall more than `HERALD_CLIENT_QUEUE` events behind (its slow-consumer protection).",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    goal = res["goal"]
    rows = []
    for r in res["rows"]:
        at_goal = r["rate"] == goal["rate"]
        verdict = _verdict((r["p99_ms"] or 1e9) <= goal["p99_ms"]) if at_goal else "—"
        rows.append(
            [
                _fmt(r["rate"]),
                _fmt(r["p50_ms"]),
                _fmt(r["p95_ms"]),
                _fmt(r["p99_ms"]),
                _fmt(r["max_ms"]),
                f"{r['delivered']:,} / {r['expected']:,}",
                r["disconnected"],
                _fmt(r.get("client_cpu_share")),
                f"≤ {goal['p99_ms']:g} ms" if at_goal else "",
                verdict,
            ]
        )
    lines += _table(
        [
            "events/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "delivered / expected",
            "cut-offs",
            "client CPU",
            "goal (p99)",
            "verdict",
        ],
        rows,
    )
    return lines + _image(images, "latency", "latency percentiles by rate")


def connections(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "4. Connections",
        "connections",
        entry,
        "Idle Socket.IO clients on one `herald serve` process: its RSS (from /proc) minus the "
        "RSS with no client after a warm-up, per connection; and the time for one event to "
        "reach every client (append → last client's receive), p99 over a few broadcasts.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    goal = res["goal"]
    rows = []
    for r in res["rows"]:
        ok = r["kb_per_conn"] <= goal["kb_per_conn"] and r["reach_p99_ms"] <= goal["reach_ms"]
        ok = ok and r["reached_min"] >= r["connected"]
        rows.append(
            [
                _fmt(r["clients"]),
                _fmt(r["connected"]),
                _fmt(r["rss_mb"]),
                _fmt(r["kb_per_conn"]),
                f"≤ {goal['kb_per_conn']}",
                _fmt(r["reach_p50_ms"]),
                _fmt(r["reach_p99_ms"]),
                f"≤ {goal['reach_ms']}",
                _fmt(r["reached_min"]),
                _verdict(ok),
            ]
        )
    lines += _table(
        [
            "clients",
            "connected",
            "RSS MB",
            "KB/conn",
            "goal",
            "reach p50 ms",
            "reach p99 ms",
            "goal",
            "reached (min)",
            "verdict",
        ],
        rows,
    )
    if res["rows"]:
        lines += [f"Baseline RSS with no client: {res['rows'][0]['baseline_mb']} MB.", ""]
    return lines + _image(images, "connections", "RSS by number of connections")


def scheduler(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "5. Scheduler",
        "scheduler",
        entry,
        "N streams at a 15 s interval with a no-op source, polled by one worker process "
        "(pinned to one core, default concurrency). Streams are created first through "
        "herald's manager, their first polls spread over one interval. Lag = actual start - "
        "planned start of every poll, recorded in the worker. CPU is in cores (CPU seconds per "
        "wall second); Redis's CPU is the whole server's.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    goal = res["goal"]
    rows = []
    for r in res["rows"]:
        at_goal = r["streams"] == goal["streams"]
        verdict = _verdict(r["lag_p99_s"] <= goal["p99_s"] and r["polls"] >= 0.9 * r["polls_due"])
        rows.append(
            [
                _fmt(r["streams"]),
                f"{r['polls']:,} / {r['polls_due']:,}",
                _fmt(r["lag_p50_s"]),
                _fmt(r["lag_p99_s"]),
                _fmt(r["lag_max_s"]),
                f"≤ {goal['p99_s']:g} s" if at_goal else "",
                verdict if at_goal else "—",
                _fmt(r["worker_cpu"]),
                _fmt(r["redis_cpu"]),
            ]
        )
    return lines + _table(
        [
            "streams",
            "polls / due",
            "lag p50 s",
            "lag p99 s",
            "lag max s",
            "goal (p99)",
            "verdict",
            "worker CPU",
            "Redis CPU",
        ],
        rows,
    )


def pollcost(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "6. Poll cost",
        "pollcost",
        entry,
        "CPU of one poll (fetch + parse + diff + state writes, after the baseline) against "
        "the platform's local stand-in, measured with `time.process_time()` in the polling "
        "process (the stand-in's own CPU is not counted); median of many polls. Each poll finds "
        "the same items as the last one (nothing new): an X tweet poll reads a 20-tweet "
        "UserTweets page, an X mention or search poll a 20-tweet SearchTimeline page. The "
        "browser figure is one headless-Chromium load of a local page holding the same 20 "
        "tweets as the tweet poll (the same JSON, rendered client-side), in a fresh tab of an "
        "already running browser: the CPU of all Chromium processes, read from /proc. A real "
        "x.com load runs megabytes of JavaScript, so this is the browser's best case and the "
        "ratio a lower bound.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    goal = res["goal"]
    h = res["herald"]
    b = res.get("browser")
    by_type = res.get("rows") or [{"label": "X tweet", "type": "tweet", **h}]
    lines += _table(
        ["stream type", "polls", "CPU ms per poll (median)", "wall ms (median)", "goal", "verdict"],
        [
            [
                f"{r['label']} (`{r['type']}`)",
                str(r["polls"]),
                _fmt(r["cpu_ms_median"]),
                _fmt(r["wall_ms_median"]),
                f"≤ {goal['cpu_ms']:g} ms CPU",
                _verdict(r["cpu_ms_median"] <= goal["cpu_ms"]),
            ]
            for r in by_type
        ],
    )
    rows = [["herald tweet poll", _fmt(h["cpu_ms_median"]), _fmt(h["wall_ms_median"]), "", ""]]
    if b:
        rows.append(
            ["Chromium page load", _fmt(b["cpu_ms_per_load"]), _fmt(b["wall_ms_median"]), "", ""]
        )
        ratio = res.get("ratio_cpu") or 0
        rows.append(
            [
                "browser / herald",
                _fmt(ratio, TIMES),
                _fmt(res.get("ratio_wall"), TIMES),
                f"≥ {goal['ratio']:g}{TIMES} (CPU)",
                _verdict(ratio >= goal["ratio"]),
            ]
        )
    lines += _table(["", "CPU ms", "wall ms", "goal", "verdict"], rows)
    load = res.get("load")
    if load:
        cores = entry.get("machine", {}).get("cores", "?")
        lines += [
            f"Load average (1 min) while herald polled: {load['before']:.1f} before, "
            f"{load['after']:.1f} after, on {cores} cores; a crowded machine raises CPU per "
            "poll too.",
            "",
        ]
    for what, reason in (res.get("skipped") or {}).items():
        lines += [f"**Skipped {what}:** {reason}", ""]
    return lines


def pollcost_mastodon(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "6a. Poll cost: Mastodon",
        "pollcost_mastodon",
        entry,
        "CPU of one poll of a Mastodon stream (fetch + parse + diff + state writes, after the "
        "baseline) against `herald fakedon` (built from the recorded cassettes), measured with "
        "`time.process_time()` in the polling process; median of many polls. A quiet status "
        "poll is one `since_id` request answered by an empty page; the public case reads a "
        "page of 20 statuses posted since the last poll and appends 20 events; a follower "
        "poll reads the account (exact count) and the newest followers page. Compare with "
        "X's 20-tweet poll above.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    rows = [
        [
            label,
            _fmt(r["cpu_ms_median"]),
            _fmt(r["wall_ms_median"]),
            _fmt(r["events"] // max(r["polls"], 1)),
        ]
        for label, r in entry["results"].items()
        if isinstance(r, dict) and "cpu_ms_median" in r
    ]
    return lines + _table(["poll", "CPU ms", "wall ms", "events per poll"], rows)


def pollcost_rss(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "6b. RSS poll cost",
        "pollcost_rss",
        entry,
        "CPU of one poll of an `rss:feed` stream against the local feed stand-in (fakefeed, "
        "its own process, serving the recorded feeds), measured with `time.process_time()` in "
        "the polling process, after the baseline: the median of the runs' medians (each run's "
        "median is listed). **304**: the feed did "
        "not change, the conditional GET is answered 304 and nothing is parsed. **200**: the "
        "recording under a new ETag: the whole feed is downloaded, parsed with feedparser and "
        "diffed (nothing new). **200 + 1 new**: an entry was added before each poll, and one "
        "`stream:entry:new` is recorded too. Beside X's poll above.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    rows = [
        [
            r["feed"],
            _fmt(r.get("entries")),
            _fmt(r["bytes"]),
            r["case"],
            f"{r.get('runs', 1)}{TIMES}{_fmt(r['polls'])}",
            _fmt(r["cpu_ms_median"]),
            ", ".join(_fmt(c) for c in r.get("cpu_ms_runs", [])),
            _fmt(r["wall_ms_median"]),
        ]
        for r in entry["results"]["rows"]
    ]
    head = [
        "feed",
        "entries",
        "bytes",
        "answer",
        f"runs {TIMES} polls",
        "CPU ms",
        "each run",
        "wall ms",
    ]
    return lines + _table(head, rows)


def resume(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "7. Resume",
        "resume",
        entry,
        "A client notes its offset and disconnects; 10,000 events are appended; it reconnects "
        "with `since`. Correct = exactly the log's entries after the offset, in order, none "
        "repeated. Time is from the resume request to the last event received.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    rows = []
    for r in entry["results"]["rows"]:
        ok = r["exact"] and r["duplicates"] == 0 and r["received"] == r["missed"]
        rows.append(
            [
                "Socket.IO `subscribe {since}`"
                if r["transport"] == "socketio"
                else "`/ws` `since`",
                _fmt(r["missed"]),
                _fmt(r["received"]),
                r["in_order"],
                r["duplicates"],
                r["exact"],
                _fmt(r["seconds"]),
                _fmt(r["events_per_second"]),
                _verdict(ok),
            ]
        )
    return lines + _table(
        [
            "transport",
            "missed",
            "received",
            "in order",
            "duplicates",
            "exact",
            "seconds",
            "events/s",
            "verdict",
        ],
        rows,
    )


SECTIONS: list[tuple[str, Section]] = [
    ("ingest", ingest),
    ("fanout", fanout),
    ("latency", latency),
    ("connections", connections),
    ("scheduler", scheduler),
    ("pollcost", pollcost),
    ("pollcost_mastodon", pollcost_mastodon),
    ("pollcost_rss", pollcost_rss),
    ("resume", resume),
]
