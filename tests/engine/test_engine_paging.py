"""Paging: a poll reads back to the last one, page by page, and says so when it cannot.

Herald polls the X stand-in over loopback HTTP with the real X source; the stand-in pages
with X's own cursor entries, 20 tweets a page.
"""

from __future__ import annotations

from herald.config import Settings
from tests.engine.x_world import XWorld, x_world


async def burst(world: XWorld, author: str, count: int, text: str = "burst {i}") -> list[str]:
    return [await world.tweet(author, text.format(i=i)) for i in range(count)]


async def test_a_burst_of_45_tweets_gives_45_events_once_each_in_order(
    settings: Settings,
) -> None:
    async with x_world(settings) as world:
        stream = await world.start("tweet", "alice")  # alice's old tweet is pinned
        assert (await world.poll(stream))["outcome"] == "baseline"
        posted = await burst(world, "alice", 45)
        before = await world.requests("UserTweets")
        result = await world.poll(stream)
        assert result["outcome"] == "ok" and result["events"] == 45
        assert await world.requests("UserTweets") - before == 3  # 20 + 20 + 5 and older
        tweets = await world.events(stream, "stream:tweet:new")
        assert [t["tweet"]["id"] for t in tweets] == posted
        assert [t["tweet"]["text"] for t in tweets] == [f"burst {i}" for i in range(45)]
        assert await world.events(stream, "stream:gap") == []
        # nothing new: one request, no event
        before = await world.requests("UserTweets")
        assert (await world.poll(stream))["events"] == 0
        assert await world.requests("UserTweets") - before == 1
        assert len(await world.events(stream, "stream:tweet:new")) == 45


async def test_the_pinned_tweet_does_not_stop_the_paging(settings: Settings) -> None:
    async with x_world(settings) as world:
        stream = await world.start("tweet", "alice")
        await world.poll(stream)
        posted = await burst(world, "alice", 25)  # page 1: the old pinned tweet and 20 new
        assert (await world.poll(stream))["events"] == 25
        tweets = await world.events(stream, "stream:tweet:new")
        assert [t["tweet"]["id"] for t in tweets] == posted


async def test_more_than_max_pages_gives_what_fits_and_one_gap(settings: Settings) -> None:
    async with x_world(settings) as world:
        await world.control("POST", "/users", json={"username": "flood"})
        stream = await world.start("tweet", "flood")
        await world.poll(stream)
        posted = await burst(world, "flood", 120)
        before = await world.requests("UserTweets")
        result = await world.poll(stream)
        assert await world.requests("UserTweets") - before == 5  # HERALD_MAX_PAGES
        assert result["events"] == 101  # the newest 5 pages of 20, and the gap
        events = await world.events(stream)
        kinds = [e["type"] for e in events if e["type"] != "stream:started"]
        assert kinds == ["stream:gap"] + ["stream:tweet:new"] * 100  # the hole is older
        gap = events[1]
        assert gap["pages"] == 5 and "5 pages" in gap["reason"] and "missed" not in gap
        assert gap["eventId"].startswith("gap:") and gap["streamType"] == "tweet"
        tweets = await world.events(stream, "stream:tweet:new")
        assert [t["tweet"]["id"] for t in tweets] == posted[20:]
        # the next poll starts from the newest: no second gap, nothing again
        assert (await world.poll(stream))["events"] == 0
        assert len(await world.events(stream, "stream:gap")) == 1


async def test_the_baseline_reads_one_page(settings: Settings) -> None:
    async with x_world(settings) as world:
        await world.control("POST", "/users", json={"username": "chatty"})
        await burst(world, "chatty", 70)
        stream = await world.start("tweet", "chatty")
        before = await world.requests("UserTweets")
        result = await world.poll(stream)
        assert result["outcome"] == "baseline" and result["events"] == 0
        assert await world.requests("UserTweets") - before == 1
        assert (await world.poll(stream))["events"] == 0


async def test_a_burst_of_45_mentions_gives_45_events(settings: Settings) -> None:
    async with x_world(settings) as world:
        stream = await world.start("mention", "alice")
        await world.poll(stream)
        posted = await burst(world, "bob", 45, "@alice ping {i}")
        before = await world.requests("SearchTimeline")
        assert (await world.poll(stream))["events"] == 45
        assert await world.requests("SearchTimeline") - before == 3
        mentions = await world.events(stream, "stream:mention:new")
        assert [m["mention"]["id"] for m in mentions] == posted
        assert await world.events(stream, "stream:gap") == []


async def test_a_mention_flood_gives_what_fits_and_one_gap(settings: Settings) -> None:
    async with x_world(settings, max_pages=2) as world:
        stream = await world.start("mention", "carol")
        await world.poll(stream)
        posted = await burst(world, "bob", 50, "@carol ping {i}")
        assert (await world.poll(stream))["events"] == 41
        events = [e for e in await world.events(stream) if e["type"] != "stream:started"]
        assert events[0]["type"] == "stream:gap" and events[0]["pages"] == 2
        assert events[0]["streamType"] == "mention"
        assert [e["mention"]["id"] for e in events[1:]] == posted[10:]


async def test_a_retried_poll_appends_its_gap_and_tweets_once(settings: Settings) -> None:
    """A worker that dies between appending a poll's events and committing its state leaves
    the state as it was; the poll that runs again finds the same gap and the same tweets."""
    async with x_world(settings) as world:
        await world.control("POST", "/users", json={"username": "retry"})
        await burst(world, "retry", 3, "old {i}")
        stream = await world.start("tweet", "retry")
        await world.poll(stream)
        keys, redis = world.herald.keys, world.herald.redis
        state_before = await redis.hgetall(keys.state(stream))
        seen_before = await redis.zrange(keys.seen(stream), 0, -1, withscores=True)
        await burst(world, "retry", 120)
        assert (await world.poll(stream))["events"] == 101
        # undo the commit, as if the worker had died right after the append
        async with redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.state(stream), keys.seen(stream))
            pipe.hset(keys.state(stream), mapping=state_before)
            pipe.zadd(keys.seen(stream), dict(seen_before))
            await pipe.execute()
        assert (await world.poll(stream))["events"] == 0
        kinds = [e["type"] for e in await world.events(stream)]
        assert kinds.count("stream:gap") == 1 and kinds.count("stream:tweet:new") == 100
