"""Engagement and deletions of an X account's recent tweets, end to end against fakex:
``stream:tweet:metrics`` when counts move past the thresholds, ``stream:tweet:deleted`` when
a tweet leaves a complete timeline window on two polls in a row, and never on a short page.
"""

from __future__ import annotations

from typing import Any

from herald.config import Settings
from tests.engine.x_world import XWorld, x_world

METRICS = "stream:tweet:metrics"
DELETED = "stream:tweet:deleted"


async def set_metrics(world: XWorld, tweet_id: str, **counts: int) -> None:
    await world.control("POST", f"/tweets/{tweet_id}/metrics", json=counts)


async def delete(world: XWorld, tweet_id: str) -> None:
    await world.control("DELETE", f"/tweets/{tweet_id}")


async def user_with_tweets(world: XWorld, username: str, count: int) -> list[str]:
    """A fresh user with ``count`` tweets; their ids, oldest first."""
    await world.control("POST", "/users", json={"username": username})
    return [await world.tweet(username, f"{username} tweet {i}") for i in range(count)]


async def kinds(world: XWorld, stream: str, kind: str) -> list[dict[str, Any]]:
    return await world.events(stream, kind)


async def test_likes_past_the_threshold_give_one_metrics_event_with_the_shape(
    settings: Settings,
) -> None:
    async with x_world(settings) as world:
        ids = await user_with_tweets(world, "mia", 3)
        await set_metrics(world, ids[1], likes=4, views=1000)
        stream = await world.start("tweet", "mia")
        assert (await world.poll(stream))["outcome"] == "baseline"
        assert (await world.poll(stream))["events"] == 0  # nothing moved
        await set_metrics(world, ids[1], likes=9, replies=2, views=1050)
        assert (await world.poll(stream))["events"] == 1
        [event] = await kinds(world, stream, METRICS)
        assert event["tweet"] == {
            "id": ids[1],
            "url": f"https://x.com/mia/status/{ids[1]}",
            "author": "mia",
        }
        assert event["metrics"] == {
            "likes": 9,
            "retweets": 0,
            "replies": 2,
            "quotes": 0,
            "bookmarks": 0,
            "views": 1050,
        }
        assert event["previous"]["likes"] == 4 and event["previous"]["views"] == 1000
        assert event["delta"] == {
            "likes": 5,
            "retweets": 0,
            "replies": 2,
            "quotes": 0,
            "bookmarks": 0,
            "views": 50,
        }
        assert event["platform"] == "x" and event["eventId"].startswith(f"tweet.metrics:{ids[1]}#")
        # polled again with the same counts: nothing more
        assert (await world.poll(stream))["events"] == 0
        assert len(await kinds(world, stream, METRICS)) == 1


async def test_views_alone_report_only_past_their_own_threshold(settings: Settings) -> None:
    async with x_world(settings) as world:
        [tweet] = await user_with_tweets(world, "vic", 1)
        await set_metrics(world, tweet, views=2000)
        stream = await world.start("tweet", "vic")
        await world.poll(stream)
        await set_metrics(world, tweet, views=2150)  # +150: under 10% of 2000
        assert (await world.poll(stream))["events"] == 0
        await set_metrics(world, tweet, views=2250)  # +250 since the last report: over both
        assert (await world.poll(stream))["events"] == 1
        [event] = await kinds(world, stream, METRICS)
        assert event["previous"]["views"] == 2000 and event["delta"]["views"] == 250
        await set_metrics(world, tweet, likes=1)  # compared with what was reported last
        await world.poll(stream)
        second = (await kinds(world, stream, METRICS))[-1]
        assert second["previous"]["views"] == 2250 and second["delta"]["likes"] == 1


async def test_a_new_tweet_is_recorded_first_and_reported_when_it_moves(
    settings: Settings,
) -> None:
    async with x_world(settings) as world:
        await user_with_tweets(world, "nia", 2)
        stream = await world.start("tweet", "nia")
        await world.poll(stream)
        fresh = await world.tweet("nia", "brand new")
        await set_metrics(world, fresh, likes=3)  # seen first with 3 likes
        assert (await world.poll(stream))["events"] == 1  # stream:tweet:new only
        assert await kinds(world, stream, METRICS) == []
        await set_metrics(world, fresh, likes=4)
        assert (await world.poll(stream))["events"] == 1
        [event] = await kinds(world, stream, METRICS)
        assert event["tweet"]["id"] == fresh and event["delta"]["likes"] == 1


async def test_min_delta_zero_turns_metrics_off(settings: Settings) -> None:
    async with x_world(settings, metrics_min_delta=0) as world:
        [tweet] = await user_with_tweets(world, "off", 1)
        stream = await world.start("tweet", "off")
        await world.poll(stream)
        await set_metrics(world, tweet, likes=50, views=100_000)
        assert (await world.poll(stream))["events"] == 0


async def test_a_deleted_tweet_is_reported_once_after_two_complete_polls(
    settings: Settings,
) -> None:
    async with x_world(settings) as world:
        ids = await user_with_tweets(world, "dora", 5)
        await set_metrics(world, ids[2], likes=7)
        stream = await world.start("tweet", "dora")
        await world.poll(stream)
        await delete(world, ids[2])
        assert (await world.poll(stream))["events"] == 0  # missed once: not yet
        assert (await world.poll(stream))["events"] == 1
        [event] = await kinds(world, stream, DELETED)
        tweet = event["tweet"]
        assert tweet["id"] == ids[2] and tweet["text"] == "dora tweet 2"
        assert tweet["author"] == "dora" and tweet["url"].endswith(f"/status/{ids[2]}")
        assert tweet["metrics"]["likes"] == 7 and tweet["isRetweet"] is False
        assert event["eventId"] == f"tweet.deleted:{ids[2]}@{stream}"
        for _ in range(2):  # reported once, and forgotten
            assert (await world.poll(stream))["events"] == 0
        assert len(await kinds(world, stream, DELETED)) == 1


async def test_the_newest_tweet_deleted_is_inside_the_window_too(settings: Settings) -> None:
    async with x_world(settings) as world:
        ids = await user_with_tweets(world, "ned", 4)
        stream = await world.start("tweet", "ned")
        await world.poll(stream)
        await delete(world, ids[-1])
        await world.poll(stream)
        await world.poll(stream)
        assert [e["tweet"]["id"] for e in await kinds(world, stream, DELETED)] == [ids[-1]]


async def test_short_pages_report_no_deletion(settings: Settings) -> None:
    """X answers with fewer tweets than asked: the window shrinks; nothing is missing."""
    async with x_world(settings) as world:
        await user_with_tweets(world, "shorty", 25)
        stream = await world.start("tweet", "shorty")
        await world.poll(stream)  # 20 tweets tracked
        fault = {"mode": "short", "keep": 3, "count": 3, "operation": "UserTweets"}
        await world.control("POST", "/faults", json=fault)
        for _ in range(3):
            assert (await world.poll(stream))["outcome"] == "ok"
        assert (await world.control("GET", "/faults"))["pending"] == []
        assert await kinds(world, stream, DELETED) == []


async def test_a_page_with_a_hole_once_reports_no_deletion(settings: Settings) -> None:
    """A short first page whose cursor skips what it left out reads a window with a hole;
    one such poll is not enough to call the tweets in it deleted, and the new tweets it
    skipped arrive on the next poll."""
    async with x_world(settings) as world:
        await user_with_tweets(world, "holey", 25)
        stream = await world.start("tweet", "holey")
        await world.poll(stream)
        fresh = [await world.tweet("holey", f"new {i}") for i in range(5)]
        fault = {"mode": "short", "keep": 3, "count": 1, "operation": "UserTweets"}
        await world.control("POST", "/faults", json=fault)
        before = await world.requests("UserTweets")
        await world.poll(stream)
        assert await world.requests("UserTweets") - before == 2  # the short page, then page 2
        for _ in range(2):
            await world.poll(stream)
        assert await kinds(world, stream, DELETED) == []
        new = await kinds(world, stream, "stream:tweet:new")
        assert sorted(e["tweet"]["id"] for e in new) == sorted(fresh)


async def test_a_tweet_moving_into_and_out_of_the_pin_is_not_deleted(
    settings: Settings,
) -> None:
    """X shows the pinned tweet first, in its own entry, and (fakex, like X at times) not
    again in its place: a tracked tweet pinned is still there."""
    async with x_world(settings) as world:
        ids = await user_with_tweets(world, "pim", 6)
        stream = await world.start("tweet", "pim")
        await world.poll(stream)
        await world.control("POST", f"/tweets/{ids[2]}/pin")
        for _ in range(3):
            await world.poll(stream)
        await world.control("POST", f"/tweets/{ids[4]}/pin")  # ids[2] back in its place
        for _ in range(3):
            await world.poll(stream)
        assert await kinds(world, stream, DELETED) == []
        await delete(world, ids[4])  # the pinned tweet itself
        await world.poll(stream)
        await world.poll(stream)
        assert [e["tweet"]["id"] for e in await kinds(world, stream, DELETED)] == [ids[4]]


async def test_a_gap_poll_judges_no_deletion(settings: Settings) -> None:
    async with x_world(settings, max_pages=1) as world:
        ids = await user_with_tweets(world, "gappy", 10)
        stream = await world.start("tweet", "gappy")
        await world.poll(stream)
        await delete(world, ids[5])
        for i in range(2):  # each poll: more new tweets than one page, so a gap
            for j in range(21):
                await world.tweet("gappy", f"flood {i}.{j}")
            await world.poll(stream)
        assert len(await kinds(world, stream, "stream:gap")) == 2
        assert await kinds(world, stream, DELETED) == []


async def test_mentions_and_searches_judge_no_deletion_and_no_metrics(
    settings: Settings,
) -> None:
    async with x_world(settings) as world:
        mention = await world.tweet("bob", "hey @alice look")
        stream = await world.start("mention", "alice")
        await world.poll(stream)
        await set_metrics(world, mention, likes=100)
        await delete(world, mention)
        for _ in range(3):
            await world.poll(stream)
        events = await world.events(stream)
        assert {e["type"] for e in events} <= {"stream:started", "stream:mention:new"}
