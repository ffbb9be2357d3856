"""The push chaos scenario counts what it should: its arithmetic, and real short runs on
the Bluesky stand-in (one honest, one that drops a post on purpose and must say so)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.chaos import pushkill, report
from bench.chaos.options import ChaosOptions
from bench.common import delete_prefix
from tests.conftest import EXTERNAL_REDIS_URL

STREAMS = {"a": "s1", "b": "s2"}
WANT = [("1", "a"), ("2", "b"), ("3", "a"), ("4", "b")]


def _post(item: str, stream: str, event_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "stream:post:new",
        "streamId": stream,
        "eventId": event_id or f"post:{item}@{stream}",
        "post": {"id": item},
    }


def _log(*events: dict[str, Any]) -> pushkill.Log:
    log = pushkill.Log(None, set(STREAMS.values()))  # type: ignore[arg-type]
    log.events = list(events)
    return log


def _row(log: pushkill.Log) -> dict[str, Any]:
    results = pushkill._results(
        log, WANT, STREAMS, ([1.5, 2.0, 2.5], [1.6, 2.1, 2.6]), [], (3, 10, 5, 2)
    )
    row: dict[str, Any] = results["rows"][0]
    assert results["ok"] is row["ok"]
    return row


def test_streams_interleaved_by_batch_are_in_order() -> None:
    row = _row(_log(_post("1", "s1"), _post("3", "s1"), _post("2", "s2"), _post("4", "s2")))
    assert (row["lost"], row["duplicated"], row["out_of_order"], row["ok"]) == (0, 0, 0, True)
    assert (row["kills"], row["takeover_p50_ms"], row["takeover_max_ms"]) == (3, 2000.0, 2500.0)
    assert row["append_max_ms"] == 2600.0


def test_a_lost_a_repeated_and_a_swapped_item_each_fail() -> None:
    lost = _row(_log(_post("1", "s1"), _post("3", "s1"), _post("2", "s2")))
    assert (lost["lost"], lost["ok"]) == (1, False)
    twice = [_post(i, s) for i, s in (("1", "s1"), ("3", "s1"), ("2", "s2"), ("4", "s2"))]
    again = _row(_log(*twice, _post("4", "s2")))
    assert (again["lost"], again["duplicated"], again["ok"]) == (0, 1, False)
    swapped = _row(_log(_post("3", "s1"), _post("1", "s1"), *twice[2:]))
    assert (swapped["out_of_order"], swapped["ok"]) == (1, False)


def test_an_event_id_logged_twice_counts_even_with_another_item() -> None:
    events = [_post(i, s) for i, s in (("1", "s1"), ("3", "s1"), ("2", "s2"), ("4", "s2"))]
    events.append(_post("5", "s2", event_id=str(events[3]["eventId"])))
    assert _row(_log(*events))["duplicated"] == 1


async def _run(tmp_path: Path, broken: bool) -> dict[str, Any]:
    opts = ChaosOptions(
        quick=True,
        results_dir=tmp_path,
        redis_url=EXTERNAL_REDIS_URL,
        broken=broken,
        sizes={"rate": 30, "seconds": 8, "kill_every": 2.0, "settle": 10 if broken else 60},
    )
    try:
        return await pushkill.run(opts)
    finally:
        await delete_prefix(opts.redis_url, opts.prefix("*"))


@pytest.mark.slow
async def test_a_real_run_loses_nothing_across_owner_kills(
    tmp_path: Path, external_redis: object
) -> None:
    results = await _run(tmp_path, broken=False)
    row = results["rows"][0]
    assert results["ok"], report.text_table("pushkill", results)
    assert row["kills"] >= 1 and row["expected"] >= 200
    assert row["received"] == row["expected"]
    assert 0 < row["takeover_max_ms"] < 30_000


@pytest.mark.slow
async def test_a_real_run_that_drops_one_event_fails(
    tmp_path: Path, external_redis: object
) -> None:
    results = await _run(tmp_path, broken=True)
    row = results["rows"][0]
    assert (row["lost"], row["duplicated"], results["ok"]) == (1, 0, False)
    assert "FAIL" in report.text_table("pushkill", results)
