"""The archive: insert rate and search latency over 1,000,000 events, SQLite FTS5 beside
Postgres (the machine's server on loopback).

Events are synthetic tweets shaped as the log holds them, with text drawn from a
Zipf-distributed vocabulary of 20,000 words (a few words are in most events, most words in
few), so queries range from rare to very common words. Each batch of 1,000 events is built
once (``record_of``, what the writer does per entry) and inserted into each backend in
turn; the insert rate counts only the ``insert_many`` calls. Then each query kind runs many
times (50 hits, newest first, with highlights) and the table gives its median and p99.
"""

from __future__ import annotations

import itertools
import os
import random
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Options, median, percentile, progress, record
from herald.archive.base import Archive, Filters, Query, parse_terms
from herald.archive.records import record_of
from herald.archive.sqlite import SqliteArchive

NAME = "archive"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
VOCABULARY = 20_000
T0 = 1_780_000_000_000
QUERIES: dict[str, tuple[str | None, Filters]] = {
    "rare word": ("w15000", Filters()),
    "mid word": ("w300", Filters()),
    "common word": ("w3", Filters()),
    "two words": ("w20 w40", Filters()),
    "phrase": ('"w1 w2"', Filters()),
    "prefix": ("w123*", Filters()),
    "word + stream": ("w50", Filters(stream_ids=("s7",))),
}
"""Plus "filters only (an hour)": no text, the hour in the middle of the archive."""


WORDS = [f"w{i}" for i in range(VOCABULARY)]


def _weights() -> list[float]:
    """Cumulative Zipf weights (``random.choices`` then draws in log time)."""
    return list(itertools.accumulate(1 / (rank + 1) for rank in range(VOCABULARY)))


def _batch(rng: random.Random, start: int, size: int, weights: list[float]) -> list[Any]:
    batch = []
    for n in range(start, start + size):
        text = " ".join(rng.choices(WORDS, cum_weights=weights, k=rng.randint(8, 30)))
        when = T0 + n * 100  # 10 events a second
        body = {
            "type": "stream:tweet:new",
            "eventId": f"tweet:{n}@s{n % 20}",
            "streamId": f"s{n % 20}",
            "username": "watched",
            "platform": "x",
            "target": "watched",
            "detectedAt": _iso(when),
            "tweet": {
                "id": str(n),
                "text": text,
                "author": f"user{n % 5000}",
                "authorName": f"User {n % 5000}",
                "url": f"https://x.com/user/status/{n}",
            },
            "priority": 1,
        }
        batch.append(record_of(body, f"{when}-0"))
    return batch


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


async def _postgres() -> Archive | None:
    try:
        from herald.archive.postgres import PostgresArchive

        archive = PostgresArchive(f"{POSTGRES_URL}?schema=herald_bench_{secrets.token_hex(4)}")
        await archive.open()
        return archive
    except Exception as exc:
        progress(NAME, f"Postgres not available ({exc}); SQLite only")
        return None


async def run(opts: Options) -> None:
    total = 10_000 if opts.quick else 1_000_000
    rounds = 10 if opts.quick else 50
    batch_size = 1000
    with tempfile.TemporaryDirectory(prefix="herald-bench-archive-") as tmp:
        backends: dict[str, Archive] = {"sqlite": SqliteArchive(Path(tmp) / "archive.db")}
        await backends["sqlite"].open()
        pg = await _postgres()
        if pg is not None:
            backends["postgres"] = pg
        try:
            results = await _measure(backends, total, batch_size, rounds)
        finally:
            for name, archive in backends.items():
                if name == "postgres":
                    await archive.drop()  # type: ignore[attr-defined]
                await archive.close()
    record(opts, NAME, results)


async def _measure(
    backends: dict[str, Archive], total: int, batch_size: int, rounds: int
) -> dict[str, Any]:
    rng = random.Random(17)
    weights = _weights()
    spent = dict.fromkeys(backends, 0.0)
    build = 0.0
    for start in range(0, total, batch_size):
        began = time.perf_counter()
        batch = _batch(rng, start, batch_size, weights)
        build += time.perf_counter() - began
        for name, archive in backends.items():
            began = time.perf_counter()
            await archive.insert_many(batch)
            spent[name] += time.perf_counter() - began
        if start % 100_000 == 0:
            progress(NAME, f"{start:,} events inserted")
    out: dict[str, Any] = {"events": total, "batch": batch_size, "rounds": rounds}
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    out["build_per_s"] = total / build
    out["backends"] = []
    for name, archive in backends.items():
        assert await archive.count() == total
        if name == "postgres":  # fresh statistics, as autovacuum keeps them in service
            await archive.analyze()  # type: ignore[attr-defined]
        queries = []
        middle = T0 + total * 50
        hour = Filters(since=middle, until=middle + 3_600_000)
        for label, (text, filters) in {**QUERIES, "filters only (an hour)": (None, hour)}.items():
            query = Query(parse_terms(text), filters, 50)
            samples = []
            hits = 0
            for _ in range(rounds):
                began = time.perf_counter()
                page = await archive.search(query)
                samples.append((time.perf_counter() - began) * 1000)
                hits = len(page.hits)
            queries.append(
                {
                    "query": label,
                    "q": text,
                    "hits": hits,
                    "ms_median": median(samples),
                    "ms_p99": percentile(samples, 99),
                }
            )
        every = [q["ms_p99"] for q in queries]
        out["backends"].append(
            {
                "backend": name,
                "insert_per_s": total / spent[name],
                "queries": queries,
                "worst_p99_ms": max(every),
            }
        )
        progress(NAME, f"{name}: {total / spent[name]:,.0f} events/s inserted")
    return out
