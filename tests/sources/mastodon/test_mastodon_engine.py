"""Mastodon streams through herald's own poller and event log (in process, the machine's
Redis, fakedon on a loopback port): a burst over the page bound is a ``stream:gap`` before
the posts that were read, and a disabled timeline is a ``stream:error`` of kind
``timeline_disabled``, counted, with the stream's state kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from herald.service import Herald
from tests.servers import herald_settings
from tests.sources.mastodon.conftest import Don


@pytest.fixture
async def herald(external_redis: Any, key_prefix: str, tmp_path: Path) -> AsyncIterator[Herald]:
    settings = herald_settings(
        key_prefix, data_dir=tmp_path, max_pages=2, mastodon_page_size=2, secret_key="k" * 20
    )
    async with Herald(settings, worker=False, delivery=False) as running:
        yield running


async def history(herald: Herald, sid: str) -> list[dict[str, Any]]:
    return list(reversed(await herald.manager.history(sid, 100)))


async def test_a_burst_over_the_page_bound_is_a_gap_then_the_newest(
    herald: Herald, don: Don
) -> None:
    stream = await herald.manager.create("mastodon:status", f"mastodonpy_test@{don.host}", 60)
    sid = stream["id"]
    assert (await herald.poller.poll(sid)).outcome == "baseline"
    posted = [await don.post("mastodonpy_test", f"burst {i}") for i in range(7)]
    outcome = await herald.poller.poll(sid)
    assert outcome.outcome == "ok", outcome
    events = [e for e in await history(herald, sid) if e["type"] != "stream:started"]
    assert [e["type"] for e in events] == ["stream:gap", *["stream:post:new"] * 4]
    assert events[0]["pages"] == 2 and "HERALD_MAX_PAGES" in events[0]["reason"]
    assert [e["post"]["id"] for e in events[1:]] == posted[3:]  # the newest four, oldest first
    again = await herald.poller.poll(sid)
    assert again.outcome == "ok" and again.events == 0  # nothing repeated


async def test_a_disabled_timeline_is_an_error_and_the_stream_keeps_its_state(
    herald: Herald, don: Don
) -> None:
    stream = await herald.manager.create("mastodon:public", don.host, 60)
    sid = stream["id"]
    assert (await herald.poller.poll(sid)).outcome == "baseline"
    await don.control("POST", "/timelines", json={"access": "authenticated", "answer": 422})
    failed = await herald.poller.poll(sid)
    assert failed.outcome == "error" and "disabled by the instance" in (failed.error or "")
    [error] = [e for e in await history(herald, sid) if e["type"] == "stream:error"]
    assert error["kind"] == "timeline_disabled" and error["consecutiveErrors"] == 1
    await don.control("POST", "/timelines", json={"access": "public"})
    fresh = await don.post("mastodonpy_test_2", "after the reopening")
    back = await herald.poller.poll(sid)
    assert back.outcome == "ok" and back.events == 1
    posts = [e for e in await history(herald, sid) if e["type"] == "stream:post:new"]
    assert [p["post"]["id"] for p in posts] == [fresh]
