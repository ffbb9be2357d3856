"""``rss:feed`` streams through the real engine on Redis, polling the feed stand-in:
baseline, each entry once, conditional GETs, guid churn, the feed window, bad answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rss_support import feed_world

from herald.config import Settings

pytestmark = pytest.mark.timeout(90)


async def test_baseline_is_silent_then_each_entry_arrives_once(
    settings: Settings, feeds: Path
) -> None:
    async with feed_world(settings, feeds) as world:
        stream = await world.start("guardian")
        assert (await world.poll(stream))["outcome"] == "baseline"
        assert await world.entries(stream) == []
        added = await world.add("guardian", title="Breaking", summary="<p>It <b>happened</b></p>")
        result = await world.poll(stream)
        assert result["outcome"] == "ok" and result["events"] == 1
        [event] = await world.events(stream, "stream:entry:new")
        assert event["entry"] == {
            "id": added["id"],
            "title": "Breaking",
            "link": added["link"],
            "published": added["published"],
            "summary": "It happened",
            "sentiment": {"compound": 0.0, "label": "neutral"},  # scored by its title
        }
        assert event["eventId"] == f"entry:{added['id']}@{stream}"
        # nothing new: a 304, nothing emitted again
        before = await world.requests("guardian")
        assert (await world.poll(stream))["events"] == 0
        after = await world.requests("guardian")
        assert after["notModified"] == before.get("notModified", 0) + 1
        assert len(await world.entries(stream)) == 1


async def test_the_baseline_poll_emits_nothing(settings: Settings, feeds: Path) -> None:
    async with feed_world(settings, feeds) as world:
        stream = await world.start("heise")
        result = await world.poll(stream)
        assert result["outcome"] == "baseline" and result["events"] == 0
        assert [e["type"] for e in await world.events(stream)] == ["stream:started"]


async def test_guid_churn_sends_no_entries_and_one_notice_once(
    settings: Settings, feeds: Path
) -> None:
    async with feed_world(settings, feeds) as world:
        stream = await world.start("reddit")
        assert (await world.poll(stream))["outcome"] == "baseline"
        await world.add("reddit", title="one")
        await world.add("reddit", title="two")
        assert (await world.poll(stream))["events"] == 2
        await world.control("POST", "/feeds/reddit/churn")  # 26 entries, every guid new
        assert (await world.poll(stream))["events"] == 1  # the notice, no entry
        [notice] = await world.events(stream, "stream:error")
        assert notice["notice"] is True and notice["kind"] == "guid_churn"
        assert "26 entries" in notice["error"] and "not repeated" in notice["error"]
        status = await world.herald.manager.status(stream)
        assert status["consecutiveErrors"] == 0  # a notice is not an error
        # churn again: still no entries, and no second notice
        await world.control("POST", "/feeds/reddit/churn")
        assert (await world.poll(stream))["events"] == 0
        # a real new entry still comes through, once
        fresh = await world.add("reddit", title="three")
        assert (await world.poll(stream))["events"] == 1
        assert [e["title"] for e in await world.entries(stream)] == ["one", "two", "three"]
        assert (await world.entries(stream))[-1]["id"].startswith(fresh["id"])
        assert len(await world.events(stream, "stream:error")) == 1
        assert await world.events(stream, "stream:gap") == []


async def test_entries_sharing_one_link_are_not_churn(settings: Settings) -> None:
    async with feed_world(settings, None) as world:
        await world.control("POST", "/feeds", json={"name": "home", "format": "atom"})
        await world.add("home", id="urn:a", link="https://example.com/")
        stream = await world.start("home")
        await world.poll(stream)
        await world.add("home", id="urn:b", link="https://example.com/")
        await world.add("home", id="urn:c", link="https://example.com/")
        assert (await world.poll(stream))["events"] == 2
        assert [e["id"] for e in await world.entries(stream)] == ["urn:b", "urn:c"]
        assert await world.events(stream, "stream:error") == []


async def test_more_new_entries_than_the_feed_shows_is_a_gap(settings: Settings) -> None:
    async with feed_world(settings, None) as world:
        await world.control("POST", "/feeds", json={"name": "window", "format": "rss"})
        await world.control("PUT", "/feeds/window/settings", json={"limit": 5})
        for i in range(5):
            await world.add("window", title=f"old {i}")
        stream = await world.start("window")
        await world.poll(stream)
        for i in range(3):  # fits: no gap
            await world.add("window", title=f"fits {i}")
        assert (await world.poll(stream))["events"] == 3
        assert await world.events(stream, "stream:gap") == []
        for i in range(7):  # the feed shows the newest 5: 2 were never visible
            await world.add("window", title=f"flood {i}")
        result = await world.poll(stream)
        assert result["events"] == 6
        events = [e for e in await world.events(stream) if e["type"] != "stream:started"]
        kinds = [e["type"] for e in events[3:]]
        assert kinds == ["stream:gap"] + ["stream:entry:new"] * 5  # the hole is older
        gap = events[3]
        assert gap["reason"] == "feed_window" and gap["streamType"] == "rss:feed"
        assert [e["title"] for e in await world.entries(stream)][3:] == [
            f"flood {i}" for i in range(2, 7)
        ]
        assert (await world.poll(stream))["events"] == 0  # one gap, not one per poll


BAD: list[tuple[dict[str, Any], str]] = [
    ({"mode": "html"}, "not_a_feed"),
    ({"mode": "garbage"}, "invalid_feed"),
    ({"mode": "empty"}, "not_a_feed"),
    ({"mode": "oversized", "bytes": 1_200_000}, "too_large"),
    ({"mode": "redirect_loop"}, "redirect"),
    ({"mode": "server_error"}, "upstream_error"),
    ({"mode": "status", "status": 404}, "http_status"),
    ({"mode": "rate_limited", "retryAfter": 1}, "rate_limited"),
]


async def test_bad_answers_are_stream_errors_and_the_stream_keeps_its_state(
    settings: Settings, feeds: Path
) -> None:
    # poll_timeout is a bound for a busy machine, not a wait
    settings = settings.model_copy(update={"rss_max_bytes": 1024 * 1024, "poll_timeout": 30})
    async with feed_world(settings, feeds) as world:
        stream = await world.start("feedburner")
        await world.poll(stream)
        first = await world.add("feedburner", title="before the trouble")
        assert (await world.poll(stream))["events"] == 1
        second = await world.add("feedburner", title="during the trouble")
        for fault, kind in BAD:
            await world.fault(**fault, feed="feedburner")
            result = await world.poll(stream)
            expected = "rate_limited" if kind == "rate_limited" else "error"
            assert result["outcome"] == expected, (fault, result)
            error = (await world.events(stream, "stream:error"))[-1]
            assert error["kind"] == kind and error["error"] == result["error"], (fault, error)
            assert world.url not in error["error"]
        errors = await world.events(stream, "stream:error")
        assert [e["kind"] for e in errors] == [kind for _, kind in BAD]
        # the next good poll: only what is new since the last good one
        result = await world.poll(stream)
        assert result["outcome"] == "ok" and result["events"] == 1
        assert [e["id"] for e in await world.entries(stream)] == [first["id"], second["id"]]
        status = await world.herald.manager.status(stream)
        assert status["consecutiveErrors"] == 0
        # and the validators were kept: the poll after is a 304
        before = (await world.requests("feedburner")).get("notModified", 0)
        assert (await world.poll(stream))["events"] == 0
        assert (await world.requests("feedburner"))["notModified"] == before + 1


async def test_a_bad_target_is_refused_and_nothing_is_stored(settings: Settings) -> None:
    from herald.errors import ValidationError

    async with feed_world(settings, None) as world:
        for target in ("ftp://example.com/feed", "https://u:p@example.com/", "not a url"):
            with pytest.raises(ValidationError, match=r"^target:"):
                await world.herald.manager.create("rss:feed", target=target)
        assert await world.herald.manager.list_streams() == []
