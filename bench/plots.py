"""The report's plots (matplotlib, headless): throughput, latency and memory curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _usable(entry: dict[str, Any] | None) -> bool:
    return entry is not None and "rows" in entry["results"] and bool(entry["results"]["rows"])


def _save(fig: Any, directory: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(directory / f"bench-{name}.png", dpi=110)
    plt.close(fig)
    return f"img/bench-{name}.png"


def draw(entries: dict[str, dict[str, Any]], directory: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if _usable(entries.get("ingest")):
        res = entries["ingest"]["results"]
        fig, ax = plt.subplots(figsize=(6, 3.6))
        xs = [str(r["batch"]) for r in res["rows"]]
        ax.bar(xs, [r["per_second"] for r in res["rows"]], color="#3b7dd8")
        ax.axhline(res["goal"], color="#c0392b", linestyle="--", label=f"goal {res['goal']:,}/s")
        ax.set(
            xlabel="events per append (batch size)",
            ylabel="events/s",
            title="Ingest: log appends per second, one process",
        )
        ax.legend()
        out["ingest"] = _save(fig, directory, "ingest")
    if _usable(entries.get("fanout")):
        res = entries["fanout"]["results"]
        fig, ax = plt.subplots(figsize=(7, 4.2))
        series = {
            ("socketio", "herald_median"): ("herald Socket.IO", "#3b7dd8", "-"),
            ("socketio", "peer_median"): ("Node socket.io 4", "#2e8b57", "--"),
            ("ws", "herald_median"): ("herald /ws", "#8e44ad", "-"),
            ("ws", "peer_median"): ("websockets.broadcast", "#e67e22", "--"),
        }
        for (transport, key), (label, color, style) in series.items():
            rows = [r for r in res["rows"] if r["transport"] == transport and r.get(key)]
            if rows:
                ax.plot(
                    [r["clients"] for r in rows],
                    [r[key] for r in rows],
                    marker="o",
                    label=label,
                    color=color,
                    linestyle=style,
                )
        ax.set_xscale("log")
        ax.set(
            xlabel="connected clients",
            ylabel="deliveries/s (median of rounds)",
            title="Fan-out: one server process on one core",
        )
        ax.legend()
        ax.grid(alpha=0.3)
        out["fanout"] = _save(fig, directory, "fanout")
    if _usable(entries.get("latency")):
        res = entries["latency"]["results"]
        fig, ax = plt.subplots(figsize=(6.5, 4))
        rates = [r["rate"] for r in res["rows"]]
        for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
            ax.plot(rates, [r[key] for r in res["rows"]], marker="o", label=label)
        ax.axhline(
            res["goal"]["p99_ms"],
            color="#c0392b",
            linestyle="--",
            label=f"goal p99 ≤ {res['goal']['p99_ms']:g} ms at {res['goal']['rate']:,}/s",
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set(
            xlabel="events appended per second",
            ylabel="append → receive (ms)",
            title="Latency, 100 Socket.IO clients",
        )
        ax.legend()
        ax.grid(alpha=0.3, which="both")
        out["latency"] = _save(fig, directory, "latency")
    if _usable(entries.get("connections")):
        res = entries["connections"]["results"]
        fig, ax = plt.subplots(figsize=(6.5, 4))
        rows = res["rows"]
        xs = [0] + [r["connected"] for r in rows]
        ax.plot(
            xs,
            [rows[0]["baseline_mb"]] + [r["rss_mb"] for r in rows],
            marker="o",
            label="herald serve RSS",
        )
        base = rows[0]["baseline_mb"]
        goal = res["goal"]["kb_per_conn"]
        ax.plot(
            xs,
            [base + x * goal / 1024 for x in xs],
            color="#c0392b",
            linestyle="--",
            label=f"baseline + {goal} KB/connection (goal)",
        )
        ax.set(xlabel="idle Socket.IO clients", ylabel="RSS (MB)", title="Memory by connections")
        ax.legend()
        ax.grid(alpha=0.3)
        out["connections"] = _save(fig, directory, "connections")
    return out
