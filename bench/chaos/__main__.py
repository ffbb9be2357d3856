"""``python -m bench.chaos [--quick] [--only NAME ...]``: the chaos scenarios, then the verdict.

Each scenario prints a table and one JSON line (also appended to
``bench/results/chaos-NAME.jsonl``). The exit code is 1 when any figure is not zero lost,
zero duplicated, zero out of order and zero re-announced, or a scenario failed to run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.chaos import report
from bench.chaos.options import ChaosOptions
from bench.common import DEFAULT_RESULTS, REDIS_URL, delete_prefix, progress, record

SCENARIOS = ("workerkill", "servekill", "storm", "burst", "pipelinekill", "pushkill", "webhookkill")
# Each scenario stops by itself well within its budget; beyond it, it counts as failed. The
# whole run has a budget too: the quick form must stay under five minutes in CI.
BUDGET = {"quick": 150.0, "full": 420.0}
TOTAL = {"quick": 290.0, "full": 900.0}


async def _one(opts: ChaosOptions, name: str, left: float) -> dict[str, Any]:
    module = importlib.import_module(f"bench.chaos.{name}")
    budget = min(BUDGET["quick" if opts.quick else "full"], max(left, 1.0))
    limit = asyncio.timeout(budget)
    try:
        async with limit:
            results: dict[str, Any] = await module.run(opts)
    except Exception as exc:
        if isinstance(exc, TimeoutError) and limit.expired():
            error = f"did not finish within its budget of {budget:.0f}s"
        else:
            traceback.print_exc()
            error = f"{type(exc).__name__}: {exc}"
        results = {"ok": False, "error": error}
    finally:  # every key the scenario created on the external Redis
        await delete_prefix(opts.redis_url, opts.prefix("*"))
    return results


async def run_all(opts: ChaosOptions, names: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    deadline = time.perf_counter() + TOTAL["quick" if opts.quick else "full"]
    for name in names:
        started = time.perf_counter()
        progress(f"chaos {name}", "starting" + (" (quick)" if opts.quick else ""))
        results = await _one(opts, name, deadline - started)
        out[name] = results
        record(opts, f"chaos-{name}", results)  # type: ignore[arg-type]
        print(report.text_table(name, results), flush=True)
        verdict = "ok" if results.get("ok") else "FAILED"
        progress(f"chaos {name}", f"{verdict} in {time.perf_counter() - started:.0f}s")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="bounded sizes for CI (< 5 min)")
    parser.add_argument("--only", action="append", choices=SCENARIOS, metavar="NAME")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="JSONL folder")
    parser.add_argument("--no-report", action="store_true", help="leave docs/benchmarks.md")
    args = parser.parse_args(argv)
    opts = ChaosOptions(quick=args.quick, results_dir=args.results, redis_url=REDIS_URL)
    started = time.perf_counter()
    results = asyncio.run(run_all(opts, list(args.only or SCENARIOS)))
    if not args.no_report:
        report.write(opts.results_dir)
    failed = [name for name, res in results.items() if not res.get("ok")]
    took = time.perf_counter() - started
    progress(
        "chaos",
        f"done in {took:.0f}s; "
        + (f"FAILED: {', '.join(failed)}" if failed else "all 0 lost, 0 twice"),
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
