"""The benchmark harness runs end to end (ingest only, smoke-test sizes); speed is not judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from tests.conftest import EXTERNAL_REDIS_URL, REPO_ROOT, need

pytestmark = pytest.mark.slow


def _redis_up() -> bool:
    try:
        with redis.Redis.from_url(EXTERNAL_REDIS_URL, socket_connect_timeout=2) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def test_ingest_scenario_records_its_results(tmp_path: Path) -> None:
    need(_redis_up(), f"external Redis not reachable at {EXTERNAL_REDIS_URL}")
    env = {**os.environ, "BENCH_REDIS_URL": EXTERNAL_REDIS_URL}
    args = ["--only", "ingest", "--quick", "--no-report", "--results", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ingest: batch size 1000" in done.stderr  # progress goes to stderr
    lines = (tmp_path / "ingest.jsonl").read_text().splitlines()
    entry = json.loads(lines[-1])
    assert entry["scenario"] == "ingest" and entry["quick"] is True
    assert entry["commit"] and entry["machine"]["cores"]
    rows = entry["results"]["rows"]
    assert [r["batch"] for r in rows] == [1, 10, 100, 1000]
    assert all(r["new"] == r["events"] and r["per_second"] > 0 for r in rows)
    assert entry["results"]["duplicates"]["new"] == 0  # idempotency held
    assert json.loads(done.stdout.splitlines()[-1])["scenario"] == "ingest"
