"""``/api/search`` and ``/api/export`` against a real server: trimmed events are still found,
restricted tokens see only their streams, bad input is a clear 4xx, exports stream."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from herald.archive.records import record_of
from herald.events import Event, EventType
from herald.service import Herald
from herald.sources.memory import MemorySource
from tests.archive.archive_support import T0, body
from tests.archive.test_archive_writer import tweets
from tests.auth.auth_support import ADMIN, API_KEY, SECRET, bearer, make_jwt
from tests.servers import herald_settings, serve_herald
from tests.waiting import wait_until


@pytest.fixture
async def server(
    key_prefix: str, tmp_path: Path
) -> AsyncIterator[tuple[Herald, httpx.AsyncClient]]:
    settings = herald_settings(
        key_prefix,
        archive_url=f"sqlite:///{tmp_path}/archive.db",
        log_maxlen=100,
        archive_retention_days=0,  # the synthetic events are months old: keep them
        api_keys=[API_KEY],
        jwt_secret=SECRET,
    )
    async with (
        Herald(settings, sources=[MemorySource()]) as herald,
        serve_herald(herald) as url,
        httpx.AsyncClient(base_url=url, timeout=30, headers=ADMIN) as client,
    ):
        yield herald, client


async def _archived(herald: Herald, n: int) -> bool:
    assert herald.archive is not None
    return await herald.archive.count() >= n


async def test_search_finds_an_event_the_log_has_trimmed(
    server: tuple[Herald, httpx.AsyncClient],
) -> None:
    herald, client = server
    needle = Event(
        EventType.TWEET_NEW, "s1", "watched", "n1", {"tweet": {"id": "n1", "text": "a rare needle"}}
    )
    [appended] = await herald.log.append("s1", [needle])
    await wait_until(lambda: _archived(herald, 1), what="the needle archived")
    for k in range(6):  # the writer keeps up batch by batch, as it does with real polls
        await herald.log.append("s1", tweets(k * 100, 100, word="hay"))
        await wait_until(lambda k=k: _archived(herald, 101 + k * 100), what=f"batch {k}")
    oldest = await herald.redis.xrange(herald.keys.events, count=1)
    assert oldest[0][0].decode() != appended.offset  # trimmed from the capped log
    assert all(e["eventId"] != needle.event_id for e in await herald.log.read("0", 10_000))

    answer = await client.get("/api/search", params={"q": "needle"})
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["count"] == 1 and page["cursor"] is None
    hit = page["results"][0]
    assert hit["event"]["eventId"] == needle.event_id
    assert hit["event"]["offset"] == appended.offset
    assert "<mark>needle</mark>" in hit["highlight"]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": "hay", "limit": 200, **({"cursor": cursor} if cursor else {})}
        got = (await client.get("/api/search", params=params)).json()
        seen.extend(h["event"]["eventId"] for h in got["results"])
        cursor = got["cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 600


async def test_bad_input_is_a_clear_4xx(server: tuple[Herald, httpx.AsyncClient]) -> None:
    _, client = server
    cases = {
        "limit=0": "limit",
        "limit=abc": "limit",
        "cursor=%%%": "cursor",
        "from=yesterday": "from",
        "type=stream:nope": "type",
        "colour=red": "colour",
        "from=2026-02-01&to=2026-01-01": "to",
        "q=" + "x" * 600: "q",
    }
    for query, field in cases.items():
        answer = await client.get(f"/api/search?{query}")
        assert answer.status_code == 400, (query, answer.text)
        assert answer.json()["error"] == "validation_error"
        assert answer.json()["detail"].startswith(field), answer.json()
    bad_format = await client.get("/api/export?format=xml")
    assert bad_format.status_code == 400 and bad_format.json()["detail"].startswith("format")
    for nasty in ['"', "*", "NEAR(", "'; DROP TABLE events; --", "a OR"]:
        answer = await client.get("/api/search", params={"q": nasty})
        assert answer.status_code == 200, (nasty, answer.text)


async def test_restricted_tokens_see_only_their_streams(
    server: tuple[Herald, httpx.AsyncClient],
) -> None:
    herald, client = server
    assert herald.archive is not None
    await herald.archive.insert_many(
        [record_of(body(i, "shared word", stream=s)) for i, s in enumerate(["a", "b", "c"])]
    )
    limited = bearer(make_jwt(streams=["a", "c"]))
    page = (await client.get("/api/search?q=shared", headers=limited)).json()
    assert sorted(h["event"]["streamId"] for h in page["results"]) == ["a", "c"]
    denied = await client.get("/api/search?q=shared&streamId=b", headers=limited)
    assert denied.status_code == 403 and "b" in denied.json()["detail"]
    denied = await client.get("/api/export?streamId=a,b", headers=limited)
    assert denied.status_code == 403
    lines = (await client.get("/api/export", headers=limited)).text.splitlines()
    assert sorted(orjson.loads(line)["streamId"] for line in lines) == ["a", "c"]
    anonymous = await client.get("/api/search?q=shared", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    full = (await client.get("/api/search?q=shared")).json()
    assert full["count"] == 3


async def test_csv_export_neutralises_formulas(server: tuple[Herald, httpx.AsyncClient]) -> None:
    herald, client = server
    assert herald.archive is not None
    await herald.archive.insert_many(
        [record_of(body(1, "=HYPERLINK(1)")), record_of(body(2, "ok"))]
    )
    answer = await client.get("/api/export?format=csv")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["eventId"] for r in rows] == ["item:1@s1", "item:2@s1"]
    assert rows[0]["text"].startswith("'=HYPERLINK(1)")
    assert orjson.loads(rows[0]["event"])["tweet"]["text"] == "=HYPERLINK(1)"


async def test_export_of_100000_events_streams_in_bounded_memory(
    server: tuple[Herald, httpx.AsyncClient],
) -> None:
    herald, client = server
    assert herald.archive is not None
    total = 100_000
    await asyncio.to_thread(_fill, herald.archive.path, total)  # type: ignore[attr-defined]
    assert await herald.archive.count() == total
    baseline = _rss()
    peak = baseline
    lines = 0
    size = 0
    async with client.stream("GET", "/api/export", params={"format": "jsonl"}) as answer:
        assert answer.status_code == 200
        tail = b""
        async for chunk in answer.aiter_bytes():
            size += len(chunk)
            data = tail + chunk
            lines += data.count(b"\n")
            tail = data[data.rfind(b"\n") + 1 :]
            peak = max(peak, _rss())
    assert lines == total
    assert size > 70_000_000  # held at once (as bytes, let alone as objects): past the bound
    growth = peak - baseline
    assert growth < 40_000_000, f"RSS grew {growth / 1e6:.1f} MB exporting {size / 1e6:.0f} MB"


def _fill(path: Path, total: int) -> None:
    """``total`` events of ~750 bytes straight into the SQLite archive's tables (their FTS
    trigger included): the setup takes a second instead of a minute of inserts."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO events(event_id, ts, type, platform, stream_id, log_offset, text, body)"
            " WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)"
            " SELECT 'item:' || i || '@s1', ? + i, 'stream:tweet:new', 'x', 's1', '',"
            " 'short ' || i,"
            ' CAST(\'{"eventId":"item:\' || i || \'@s1","pad":"\' || hex(zeroblob(340))'
            " || '\"}' AS BLOB) FROM n",
            (total, T0),
        )


def _rss() -> int:
    """This process's resident memory (the server runs in it), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")
