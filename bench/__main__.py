"""``python -m bench [--quick] [--only NAME ...]``: run the scenarios, then the report."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

from bench.common import (
    DEFAULT_RESULTS,
    REDIS_URL,
    Options,
    delete_prefix,
    progress,
    record,
    skipped,
)
from herald import runtime

SCENARIOS = (
    "ingest",
    "fanout",
    "latency",
    "connections",
    "scheduler",
    "pollcost",
    "pollcost_mastodon",
    "pollcost_rss",
    "resume",
    "workerkill",
    "pipeline_ops",
    "pipeline_run",
    "alerts",
    "pollcost_engagement",
    "dashboard",
    "push_binance",
    "sentiment",
    "push_ingest",
    "push_jetstream",
    "commands",
    "command_entry",
    "grpc_fanout",
    "webhooks",
    "pollcost_dm",
    "browserpool",
    "archive",
)


async def _redis_ok(url: str) -> str | None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=3)
    try:
        await client.ping()
        return None
    except Exception as exc:
        return f"Redis not reachable at {url} ({exc}); set BENCH_REDIS_URL"
    finally:
        await client.aclose()


async def _run(opts: Options, names: list[str]) -> int:
    failures = 0
    no_redis = await _redis_ok(opts.redis_url)
    for name in names:
        if no_redis:
            skipped(opts, name, no_redis)
            continue
        started = time.perf_counter()
        progress(name, "starting" + (" (quick)" if opts.quick else ""))
        try:
            module = importlib.import_module(f"bench.scenarios.{name}")
            await module.run(opts)
        except Exception as exc:
            failures += 1
            traceback.print_exc()
            record(opts, name, {"error": f"{type(exc).__name__}: {exc}"})
        finally:  # every key this run created, whatever the scenario left behind
            await delete_prefix(opts.redis_url, opts.prefix("*"))
        progress(name, f"finished in {time.perf_counter() - started:.0f}s")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts; under 2 minutes")
    parser.add_argument(
        "--only", action="append", choices=SCENARIOS, metavar="NAME", help="run only NAME"
    )
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="JSONL folder")
    parser.add_argument("--no-report", action="store_true", help="skip docs/benchmarks.md")
    args = parser.parse_args(argv)
    opts = Options(quick=args.quick, results_dir=args.results, redis_url=REDIS_URL)
    names = list(args.only or SCENARIOS)
    started = time.perf_counter()
    failures = runtime.run(_run(opts, names))
    if not args.no_report:
        from bench import report

        report.main(opts.results_dir)
    progress("bench", f"done in {time.perf_counter() - started:.0f}s, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
