"""Regenerate ``docs/benchmarks.md`` and ``docs/img/bench-*.png`` from the latest results.

Run as ``python -m bench.report``. For each scenario the latest full run is used (the
latest quick run only when there is no full one, and then the page says so).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import plots
from bench.chaos import report as chaos_report
from bench.common import DEFAULT_RESULTS, REDIS_URL, ROOT
from bench.tables import SECTIONS as SCENARIO_SECTIONS
from bench.tables_alerts import SECTIONS as ALERT_SECTIONS
from bench.tables_archive import SECTIONS as ARCHIVE_SECTIONS
from bench.tables_browser import SECTIONS as BROWSER_SECTIONS
from bench.tables_command_entry import SECTIONS as COMMAND_ENTRY_SECTIONS
from bench.tables_commands import SECTIONS as COMMAND_SECTIONS
from bench.tables_dashboard import SECTIONS as DASHBOARD_SECTIONS
from bench.tables_dm import SECTIONS as DM_SECTIONS
from bench.tables_engagement import SECTIONS as ENGAGEMENT_SECTIONS
from bench.tables_grpc import SECTIONS as GRPC_SECTIONS
from bench.tables_jetstream import SECTIONS as JETSTREAM_SECTIONS
from bench.tables_pipelines import SECTIONS as PIPELINE_SECTIONS
from bench.tables_piperun import SECTIONS as RUNTIME_SECTIONS
from bench.tables_push import SECTIONS as PUSH_SECTIONS
from bench.tables_pushingest import SECTIONS as PUSHINGEST_SECTIONS
from bench.tables_sentiment import SECTIONS as SENTIMENT_SECTIONS
from bench.tables_webhooks import SECTIONS as WEBHOOK_SECTIONS

DOC = ROOT / "docs" / "benchmarks.md"
IMG = ROOT / "docs" / "img"
SECTIONS = [
    *SCENARIO_SECTIONS,
    *PIPELINE_SECTIONS,
    *RUNTIME_SECTIONS,
    *ALERT_SECTIONS,
    *DASHBOARD_SECTIONS,
    *PUSH_SECTIONS,
    *SENTIMENT_SECTIONS,
    *JETSTREAM_SECTIONS,
    *PUSHINGEST_SECTIONS,
    *ENGAGEMENT_SECTIONS,
    *COMMAND_SECTIONS,
    *COMMAND_ENTRY_SECTIONS,
    *BROWSER_SECTIONS,
    *DM_SECTIONS,
    *GRPC_SECTIONS,
    *WEBHOOK_SECTIONS,
    *ARCHIVE_SECTIONS,
]


def latest(results_dir: Path, scenario: str) -> dict[str, Any] | None:
    path = results_dir / f"{scenario}.jsonl"
    if not path.exists():
        return None
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    full = [e for e in entries if not e.get("quick")]
    return (full or entries or [None])[-1]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    out = {"Python": sys.version.split()[0]}
    try:
        from redis import Redis

        with Redis.from_url(REDIS_URL, socket_connect_timeout=2) as client:
            info = client.info("server")
        name = "Valkey" if "valkey_version" in info else "Redis"
        out[name] = str(info.get("valkey_version") or info.get("redis_version"))
    except Exception:
        out["Redis"] = "unreachable"
    node = shutil.which("node")
    if node:
        out["Node"] = subprocess.run(
            [node, "--version"], capture_output=True, text=True
        ).stdout.strip()
    pkg = ROOT / "bench" / "node" / "node_modules" / "socket.io" / "package.json"
    if pkg.exists():
        out["socket.io (Node)"] = json.loads(pkg.read_text())["version"]
    for name in ("python-socketio", "python-engineio", "websockets", "uvicorn", "uvloop", "redis"):
        out[name] = _version(name)
    return out


def method(entries: dict[str, dict[str, Any]]) -> list[str]:
    any_entry = next(iter(entries.values()), None)
    m = (any_entry or {}).get("machine", {})
    ver = ", ".join(f"{k} {v}" for k, v in versions().items())
    runs = ", ".join(
        f"{name} {e['timestamp']} ({e['commit']}{', quick' if e.get('quick') else ''})"
        for name, e in entries.items()
    )
    return [
        "## Method",
        "",
        f"- **Machine:** {m.get('cores', '?')} cores, {m.get('memory_gb', '?')} GB, "
        f"CPU {m.get('cpu', 'unknown')}; {m.get('platform', '')}.",
        f"- **Versions:** {ver}.",
        "- **Pinning:** servers under test (herald, Node socket.io, websockets.broadcast, the "
        "scheduler's worker) run with `taskset -c 0`; load clients, the log producer and the "
        "X stand-in with `taskset -c 1`. Redis is not pinned and shares the machine.",
        "- **Clients:** a minimal WebSocket/Engine.IO client (`bench/wire.py`, many connections "
        "per asyncio process) so that the clients, not the servers, are never the limit; each "
        "fan-out row also reports the clients' CPU.",
        "- **Runs and medians:** fan-out takes three rounds per pair, alternating herald and its "
        "peer, and reports the median of each and the median of the per-round ratios; other "
        "figures are medians or percentiles over every sample, as each table says.",
        f"- **Runs used here:** {runs}.",
        "- **Reproduce:** `make bench` (everything, about 5 minutes on this machine) or "
        "`python -m bench --only NAME`; the raw figures are appended to `bench/results/*.jsonl`.",
        "",
    ]


def main(results_dir: Path = DEFAULT_RESULTS) -> Path:
    entries = {}
    for name, _ in SECTIONS:
        entry = latest(results_dir, name)
        if entry is not None:
            entries[name] = entry
    IMG.mkdir(parents=True, exist_ok=True)
    images = plots.draw(entries, IMG)
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench.report` from bench/results/*.jsonl; do not edit. -->",
        "",
        "Every figure on this page comes from the benchmark suite in `bench/`, measured on the "
        "machine described below, with the command beside it. Goals sit beside each figure, "
        "with a plain verdict.",
        "",
        *method(entries),
    ]
    for name, section in SECTIONS:
        entry = entries.get(name)
        lines += section(entry, images)
    lines += chaos_report.section(results_dir)  # the Reliability section (python -m bench.chaos)
    DOC.write_text("\n".join(lines).rstrip() + "\n")
    print(f"wrote {DOC} and {len(images)} plots", file=sys.stderr)
    return DOC


if __name__ == "__main__":
    main()
