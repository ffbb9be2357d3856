"""What every scenario shares: run options, progress output, result records, statistics."""

from __future__ import annotations

import json
import os
import platform
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
DEFAULT_RESULTS = BENCH_DIR / "results"
REDIS_URL = os.environ.get(
    "BENCH_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
)
SERVER_CORE = "0"
CLIENT_CORE = "1"


@dataclass
class Options:
    """How a scenario runs: ``quick`` shrinks every count and duration to a smoke test."""

    quick: bool = False
    results_dir: Path = DEFAULT_RESULTS
    redis_url: str = REDIS_URL
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))

    def prefix(self, scenario: str) -> str:
        """A key prefix of its own, so a run never touches anyone else's keys."""
        return f"herald-bench-{self.run_id}-{scenario}"


def progress(scenario: str, message: str) -> None:
    """One line on stderr: which scenario, which step."""
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {scenario}: {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "herald"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    except OSError:
        return "unknown"
    commit = out.stdout.strip() or "unknown"
    return commit + ("+dirty" if dirty.stdout.strip() else "")


def machine() -> dict[str, Any]:
    """Cores, memory and CPU model, read from /proc where there is one."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return info


def record(opts: Options, scenario: str, results: dict[str, Any]) -> dict[str, Any]:
    """Print the results as JSON on stdout and append them to the scenario's JSONL file."""
    entry = {
        "scenario": scenario,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "quick": opts.quick,
        "machine": machine(),
        "results": results,
    }
    line = json.dumps(entry, sort_keys=False)
    print(line, flush=True)
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    with (opts.results_dir / f"{scenario}.jsonl").open("a") as fh:
        fh.write(line + "\n")
    return entry


def skipped(opts: Options, scenario: str, reason: str) -> dict[str, Any]:
    """Record that a scenario could not run, and why."""
    progress(scenario, f"SKIPPED: {reason}")
    return record(opts, scenario, {"skipped": reason})


def raise_fd_limit(wanted: int = 65536) -> int:
    """Lift the soft open-files limit as far as the hard limit allows; returns the new soft."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


async def delete_prefix(redis_url: str, prefix: str) -> None:
    """Remove every key a scenario created (its own prefix, and SAQ's keys for it)."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        for pattern in (f"{prefix}:*", f"saq:{prefix}:*", f"saq:job:{prefix}:*"):
            batch: list[bytes] = []
            async for key in client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 500:
                    await client.unlink(*batch)
                    batch.clear()
            if batch:
                await client.unlink(*batch)
    finally:
        await client.aclose()
