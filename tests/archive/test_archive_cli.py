"""``herald search`` and ``herald export`` against a real server with a SQLite archive."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.archive.test_archive_writer import tweets
from tests.cli.conftest import CliServer, Invoke, invoker, serve
from tests.servers import herald_settings
from tests.waiting import wait_until


@pytest.fixture
async def archived(
    external_redis: Redis, key_prefix: str, tmp_path: Path
) -> AsyncIterator[CliServer]:
    settings = herald_settings(key_prefix, archive_url=f"sqlite:///{tmp_path}/archive.db")
    async for running in serve(settings):
        herald = running.herald
        await herald.log.append("s1", tweets(0, 30, word="launch"))
        await herald.log.append("s2", tweets(100, 5, stream="s2", word="landing"))
        await wait_until(lambda r=running: _count(r, 35), what="35 events archived")
        yield running


async def _count(running: CliServer, n: int) -> bool:
    assert running.herald.archive is not None
    return await running.herald.archive.count() == n


@pytest.fixture
def cli(archived: CliServer) -> Invoke:
    return invoker(archived.url)


async def test_search_prints_hits_with_highlights(cli: Invoke) -> None:
    result = await cli("search", "landing")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("landing") == 5
    assert "s2" in result.stdout and "launch" not in result.stdout
    as_json = await cli("search", "launch", "--limit", "25", "--json")
    page = json.loads(as_json.stdout)
    assert page["count"] == 25 and page["cursor"]
    assert all("<mark>launch</mark>" in hit["highlight"] for hit in page["results"])
    rest = json.loads((await cli("search", "launch", "--cursor", page["cursor"], "--json")).stdout)
    assert rest["count"] == 5
    ids = {h["event"]["eventId"] for h in page["results"] + rest["results"]}
    assert len(ids) == 30


async def test_search_filters_and_refusals(cli: Invoke) -> None:
    page = json.loads((await cli("search", "--stream", "s2", "--json")).stdout)
    assert page["count"] == 5
    bad = await cli("search", "x", "--type", "stream:nope")
    assert bad.exit_code != 0 and bad.stderr.strip().startswith("error: type:")
    bad = await cli("search", "x", "--from", "soon")
    assert bad.exit_code != 0 and bad.stderr.strip().startswith("error: from:")


async def test_export_to_a_file_and_stdout(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    result = await cli("export", "--format", "csv", "-o", str(target), "--stream", "s1")
    assert result.exit_code == 0, result.stderr
    assert "wrote 30 events" in result.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    # oldest first (events of the same millisecond in archive order)
    stamps = [r["detectedAt"] for r in rows]
    assert stamps == sorted(stamps)
    assert {r["eventId"] for r in rows} == {f"tweet:{i}@s1" for i in range(30)}
    lines = (await cli("export", "--query", "landing")).stdout.splitlines()
    got = [json.loads(line) for line in lines]
    assert [e["detectedAt"] for e in got] == sorted(e["detectedAt"] for e in got)
    assert {e["eventId"] for e in got} == {f"tweet:{i}@s2" for i in range(100, 105)}
    shown = await cli("export", "--query", "landing", "--progress")
    assert "exporting" in shown.stderr and shown.stdout.count("\n") == 5
    bad = await cli("export", "--format", "xml")
    assert bad.exit_code != 0 and "csv or jsonl" in bad.stderr
