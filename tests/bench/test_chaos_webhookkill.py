"""The webhook chaos scenario counts what it should: its arithmetic, the receiver's
signature check, and real short runs (one honest, one that drops an arrival on purpose and
must say so)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.chaos import report, webhookkill
from bench.chaos.options import ChaosOptions
from bench.chaos.stack import Stack
from bench.common import delete_prefix
from bench.procs import free_port
from herald.webhooks import signing
from tests.conftest import EXTERNAL_REDIS_URL
from tests.waiting import wait_until

LOG = [
    {"type": "stream:started", "streamId": "s1", "eventId": "start:s1"},
    *({"type": "stream:tweet:new", "streamId": "s1", "eventId": f"t{i}"} for i in range(4)),
]
WANT = webhookkill.matching(LOG, {"s1"})


def _got(*ids: str, ok: bool = True) -> list[dict[str, Any]]:
    return [{"endpoint": "e", "id": i, "eventId": i, "ok": ok} for i in ids]


def test_matching_keeps_the_selected_tweets_in_log_order() -> None:
    assert WANT == ["t0", "t1", "t2", "t3"]
    assert webhookkill.matching(LOG, {"s2"}) == []


def test_every_event_once_in_order_passes_and_others_are_left_out() -> None:
    row = webhookkill._row("e", WANT, _got("start:s1", "t0", "t1", "t2", "t3"), LOG, 0)
    assert (row.lost, row.duplicated, row.out_of_order, row.twice, row.ok) == (0, 0, 0, 0, True)


def test_a_lost_or_swapped_event_fails_whatever_the_kills() -> None:
    lost = webhookkill._row("e", WANT, _got("t0", "t1", "t3"), LOG, 5)
    assert (lost.lost, lost.ok) == (1, False)
    swapped = webhookkill._row("e", WANT, _got("t0", "t2", "t1", "t3"), LOG, 5)
    assert (swapped.out_of_order, swapped.ok) == (1, False)


def test_resends_pass_up_to_one_per_kill_and_fail_beyond() -> None:
    once = webhookkill._row("e", WANT, _got("t0", "t1", "t1", "t2", "t3"), LOG, 1)
    assert (once.duplicated, once.twice, once.ok) == (1, 1, True)
    again = webhookkill._row("e", WANT, _got("t0", "t1", "t1", "t2", "t2", "t3"), LOG, 1)
    assert (again.duplicated, again.twice, again.ok) == (2, 2, False)
    unkilled = webhookkill._row("e", WANT, _got("t0", "t0", "t1", "t2", "t3"), LOG, 0)
    assert unkilled.ok is False


def test_a_bad_signature_or_a_mismatched_id_fails() -> None:
    bad = webhookkill._row("e", WANT, _got("t0", "t1", "t2") + _got("t3", ok=False), LOG, 0)
    assert (bad.unverified, bad.ok) == (1, False)
    got = _got(*WANT)
    got[0]["eventId"] = "t9"
    assert webhookkill._row("e", WANT, got, LOG, 0).unverified == 1


async def test_the_receiver_verifies_with_the_reference_library(tmp_path: Path) -> None:
    secret, port, out = signing.new_secret(), free_port(), tmp_path / "arrivals.jsonl"
    key = signing.secret_key(secret)
    async with Stack({}) as stack, httpx.AsyncClient(timeout=10) as client:
        await stack.start_process(
            "receiver",
            [sys.executable, "-m", "bench.chaos.receiver", str(port), str(out)],
            {"CHAOS_WEBHOOK_SECRETS": json.dumps({"e": secret})},
            "receiver listening",
        )
        for msg_id, sign_with in (("good", key), ("forged", b"x" * 24)):
            body = json.dumps({"eventId": msg_id, "type": "stream:tweet:new"}).encode()
            headers = signing.headers(sign_with, msg_id, int(time.time()), body)
            answer = await client.post(f"http://127.0.0.1:{port}/hook/e", content=body,
                                       headers=headers)  # fmt: skip
            assert answer.status_code == 204
        arrivals = webhookkill.Arrivals(out)
        await wait_until(lambda: len(arrivals.all()) == 2, timeout=10)
    assert [(a["id"], a["ok"]) for a in arrivals.all()] == [("good", True), ("forged", False)]


async def _run(tmp_path: Path, broken: bool) -> dict[str, Any]:
    opts = ChaosOptions(
        quick=True,
        results_dir=tmp_path,
        redis_url=EXTERNAL_REDIS_URL,
        broken=broken,
        sizes={"seconds": 8, "kill_every": 2.5, "settle": 10 if broken else 60},
    )
    try:
        return await webhookkill.run(opts)
    finally:
        await delete_prefix(opts.redis_url, opts.prefix("*"))


@pytest.mark.slow
async def test_a_real_run_loses_nothing_across_lease_holder_kills(
    tmp_path: Path, external_redis: object
) -> None:
    results = await _run(tmp_path, broken=False)
    assert results["ok"], report.text_table("webhookkill", results)
    for row in results["rows"]:
        assert row["kills"] >= 1 and row["expected"] >= 20
        assert row["received"] - row["duplicated"] == row["expected"]
        assert row["unverified"] == 0
    assert any(0 < (row["takeover_max_ms"] or 0) < 30_000 for row in results["rows"])


@pytest.mark.slow
async def test_a_real_run_that_drops_one_arrival_fails(
    tmp_path: Path, external_redis: object
) -> None:
    results = await _run(tmp_path, broken=True)
    assert sum(row["lost"] for row in results["rows"]) == 1
    assert results["ok"] is False
    assert "FAIL" in report.text_table("webhookkill", results)
