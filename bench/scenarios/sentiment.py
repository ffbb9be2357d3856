"""Sentiment cost: microseconds per item of the scoring every post-like item gets as its
event is built (``herald.sentiment.scored``, VADER), on real texts from the recordings: X
tweets and search results, Mastodon statuses, and feed entries' titles.

Each item is timed on its own (``time.thread_time_ns``, this thread's CPU time, around one
``scored`` call, the copy of the item included: time the thread spends preempted on a busy
machine is not counted) over several rounds; the table gives the median and p99 per
kind of item and over all of them, beside stock VADER's ``polarity_scores`` on the same
texts (herald's analyzer gives the same scores without VADER's quadratic step). Items in
a language VADER does not read are counted apart: they cost only the language check. Pure
CPU in this process: no Redis, no network.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Options, median, percentile, progress, record, skipped
from herald.sentiment import covers, scored, stock_analyzer
from herald.sources.catalog import stream_types

NAME = "sentiment"
TARGET_US = 100.0
HOST = "localhost:3000"


def _items(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Wire payloads (as the catalog's payload functions shape them), per kind."""
    from herald.sources.mastodon import parse_statuses
    from herald.sources.rss import parse_feed
    from herald.sources.x import parse_tweets
    from herald.testing.fakedon.recordings import load_cassette

    x = [
        t.tweet_payload()
        for name in ("raw_user_tweets.json", "raw_search.json")
        for t in parse_tweets(json.loads((root / "x" / name).read_text("utf-8"))).tweets
    ]
    statuses = []
    for path in sorted((root / "mastodon").glob("*.yaml")):
        for ex in load_cassette(path):
            if ex.status != 200 or "json" not in ex.headers.get("content-type", ""):
                continue
            body = ex.json()
            if isinstance(body, list) and body and "content" in body[0]:
                statuses += [s.post_payload() for s in parse_statuses(body, HOST)]
    titles = [
        e.entry_payload()
        for path in sorted((root / "rss").iterdir())
        if path.suffix in (".rss", ".atom")
        for e in parse_feed(path.read_bytes(), "https://bench.example/").entries
    ]
    return {"tweet": x, "post": statuses, "entry": titles}


def _time(items: list[dict[str, Any]], key: str, rounds: int) -> list[float]:
    fields = stream_types().sentiment_fields
    samples: list[float] = []
    for _ in range(rounds):
        for item in items:
            payload = {key: item}
            start = time.thread_time_ns()
            scored(payload, fields)
            samples.append((time.thread_time_ns() - start) / 1000)
    return samples


def _root() -> Path | None:
    root = Path(os.environ.get("HERALD_FIXTURES", ROOT.parent / "shared" / "fixtures"))
    return root if root.is_dir() else None


def _time_stock(texts: list[str], rounds: int) -> list[float]:
    stock = stock_analyzer()
    samples: list[float] = []
    for _ in range(rounds):
        for text in texts:
            start = time.thread_time_ns()
            stock.polarity_scores(text)
            samples.append((time.thread_time_ns() - start) / 1000)
    return samples


async def run(opts: Options) -> dict[str, Any]:
    root = _root()
    if root is None:
        return skipped(opts, NAME, "recordings not found (set HERALD_FIXTURES)")
    rounds = 3 if opts.quick else 30
    kinds = _items(root)
    scored({"tweet": {"text": "warm up the lexicon"}}, stream_types().sentiment_fields)
    rows: list[dict[str, Any]] = []
    every: list[float] = []
    every_stock: list[float] = []
    for key, items in kinds.items():
        field = stream_types().sentiment_fields[key]
        read = [i for i in items if covers(i.get("lang"))]
        skipped_items = [i for i in items if not covers(i.get("lang"))]
        samples = _time(read, key, rounds)
        stock = _time_stock([str(i.get(field, ""))[:2000] for i in read], rounds)
        every += samples
        every_stock += stock
        chars = [len(str(i.get(field, ""))) for i in read]
        row = {
            "kind": key,
            "field": field,
            "items": len(read),
            "chars_median": median([float(c) for c in chars]),
            "us_median": round(median(samples) or 0, 2),
            "us_p99": round(percentile(samples, 99) or 0, 2),
            "stock_us_median": round(median(stock) or 0, 2),
            "stock_us_p99": round(percentile(stock, 99) or 0, 2),
            "other_language": len(skipped_items),
            "other_language_us_median": round(median(_time(skipped_items, key, rounds)) or 0, 2)
            if skipped_items
            else None,
        }
        rows.append(row)
        progress(NAME, f"{key}: {row['us_median']} µs median, {row['us_p99']} µs p99")
    overall = {
        "us_median": round(median(every) or 0, 2),
        "us_p99": round(percentile(every, 99) or 0, 2),
        "stock_us_median": round(median(every_stock) or 0, 2),
        "stock_us_p99": round(percentile(every_stock, 99) or 0, 2),
        "target_us": TARGET_US,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "rounds": rounds,
    }
    return record(opts, NAME, {"kinds": rows, "overall": overall})
