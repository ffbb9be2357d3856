"""The chaos harness can see a loss: its counting, and a real run with a broken client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.chaos import report, storm
from bench.chaos.options import ChaosOptions
from bench.chaos.tally import delivery, posted_vs_log
from bench.common import delete_prefix
from tests.conftest import EXTERNAL_REDIS_URL


def _tweet(offset: str, tweet_id: str, stream: str = "s1") -> dict[str, object]:
    return {
        "offset": offset,
        "type": "stream:tweet:new",
        "eventId": f"tweet:{tweet_id}@{stream}",
        "streamId": stream,
        "detectedAt": "2026-01-01T00:00:01.000Z",
        "tweet": {"id": tweet_id},
    }


def test_delivery_counts_lost_duplicated_and_out_of_order() -> None:
    expected = ["1-0", "2-0", "3-0", "4-0"]
    assert delivery("exact", expected, expected).ok
    dropped = delivery("dropped", expected, ["1-0", "2-0", "4-0"])
    assert (dropped.lost, dropped.duplicated, dropped.out_of_order) == (1, 0, 0)
    assert not dropped.ok and dropped.notes == ["first lost: 3-0"]
    twice = delivery("twice", expected, ["1-0", "2-0", "2-0", "3-0", "4-0"])
    assert (twice.lost, twice.duplicated, twice.out_of_order) == (0, 1, 0)
    swapped = delivery("swapped", expected, ["1-0", "3-0", "2-0", "4-0"])
    assert (swapped.lost, swapped.duplicated, swapped.out_of_order) == (0, 0, 1)
    assert swapped.notes == ["first out of order: receipt #2 (2-0) after 3-0"]
    stranger = delivery("stranger", expected, ["0-5", *expected])
    assert stranger.duplicated == 1  # something from before the start was sent again
    assert stranger.notes == ["1 received but never expected: 0-5"]


def test_posted_vs_log_counts_lost_twice_and_reannounced() -> None:
    posted = {"10": 1767225600.0, "11": 1767225600.5, "12": 1767225600.5}
    log = [
        {"offset": "1-0", "type": "stream:started", "eventId": "started:1@s1", "streamId": "s1"},
        _tweet("2-0", "10"),
        _tweet("3-0", "11"),
        _tweet("4-0", "9"),  # never posted: an old tweet announced again
        {"offset": "5-0", "type": "stream:started", "eventId": "started:2@s1", "streamId": "s1"},
        _tweet("6-0", "11"),  # the same tweet a second time
    ]
    row = posted_vs_log("case", posted, log, {"s1"})
    assert (row.expected, row.lost, row.duplicated, row.reannounced) == (3, 1, 1, 2)
    assert row.detection_max_ms == 1000.0 and not row.ok


@pytest.mark.slow
async def test_a_client_that_drops_one_event_fails_the_run(
    tmp_path: Path, external_redis: object
) -> None:
    """A real storm (herald serve, the producer, /ws and SSE clients cut every second) with
    one extra /ws client that discards its third event: the harness reports exactly that."""
    opts = ChaosOptions(
        quick=True,
        results_dir=tmp_path,
        redis_url=EXTERNAL_REDIS_URL,
        broken=True,
        node=False,
        sizes={"rate": 100, "seconds": 3, "drop_every": 1.0, "settle": 20},
    )
    try:
        results = await storm.run(opts)
    finally:
        await delete_prefix(opts.redis_url, opts.prefix("*"))
    rows = {r["name"]: r for r in results["rows"]}
    broken = next(r for name, r in rows.items() if "broken" in name)
    assert broken["expected"] >= 300
    assert (broken["lost"], broken["duplicated"], broken["ok"]) == (1, 0, False)
    assert results["ok"] is False
    assert "FAIL" in report.text_table("storm", results)
    honest = rows["/ws since"]
    assert (honest["lost"], honest["duplicated"], honest["out_of_order"]) == (0, 0, 0)
    assert honest["received"] == honest["expected"] == broken["expected"]


def test_reliability_section_replaces_only_itself(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## 7. Resume\n\nkept\n\n## Reliability\n\nold figures\n")
    results = tmp_path / "results"
    results.mkdir()
    entry = {
        "timestamp": "2026-01-01T00:00:00+00:00",
        "commit": "abc1234",
        "quick": True,
        "results": {"ok": False, "rows": [delivery("a client", ["1-0", "2-0"], ["1-0"]).as_dict()]},
    }
    (results / "chaos-storm.jsonl").write_text(json.dumps(entry) + "\n")
    report.write(results, doc)
    report.write(results, doc)  # a second run changes nothing
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\n## 7. Resume\n\nkept\n\n## Reliability\n")
    assert "old figures" not in text and text.count("## Reliability") == 1
    assert "| a client | 2 | 1 | 1 |" in text and "**FAIL**" in text
    assert "_Not run yet._" in text  # the scenarios without results say so
