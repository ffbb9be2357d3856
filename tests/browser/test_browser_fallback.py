"""The fallback end to end: fakex refuses herald's signed GraphQL, the stream keeps
reporting through a real Chromium loading fakex's profile page, then returns to GraphQL.

Every new tweet is reported once, none is lost across either switch, and the stream's
status says which path served the last poll.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Playwright

from herald.browser import BrowserPool, PoolLimits
from tests.browser.browser_world import browser_world
from tests.engine.x_world import COOKIE, XWorld
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool(chromium: str, driver: Playwright) -> AsyncIterator[BrowserPool]:
    """One pool (one Chromium) for the module."""
    shared = BrowserPool(PoolLimits(acquire_timeout=10), chromium=chromium, playwright=driver)
    try:
        yield shared
    finally:
        await shared.close_all()


async def status(world: XWorld, stream_id: str) -> dict[str, Any]:
    return await world.herald.manager.status(stream_id)


async def new_tweet_ids(world: XWorld, stream_id: str) -> list[str]:
    return [e["tweet"]["id"] for e in await world.events(stream_id, "stream:tweet:new")]


async def page_requests(world: XWorld) -> int:
    seen = await world.control("GET", "/requests")
    return int(sum(seen.get("fromPages", {}).values()))


async def test_refused_graphql_is_served_by_the_browser_and_comes_back(
    pool: BrowserPool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    prefix = f"herald-test-{secrets.token_hex(4)}"
    async with browser_world(pool, prefix, browser_after=2, browser_probe_every=2) as world:
        await world.control("POST", "/users", json={"username": "ann"})
        await world.tweet("ann", "old news")
        sid = await world.start("tweet", "ann")
        await world.poll(sid)  # the baseline, on GraphQL
        assert (await status(world, sid))["path"] == "graphql"
        posted: list[str] = []

        await world.control("POST", "/faults", json={"mode": "signature_refused", "count": 10_000})
        posted.append(await world.tweet("ann", "while refused 1"))
        await world.poll(sid)  # the first refusal fails the poll, as any error does
        first = await status(world, sid)
        assert first["lastErrorKind"] == "signature_refused" and first["path"] == "graphql"
        assert await new_tweet_ids(world, sid) == []

        posted.append(await world.tweet("ann", "while refused 2"))
        before = await page_requests(world)
        await world.poll(sid)  # refused again: the browser serves it
        switched = await status(world, sid)
        assert switched["path"] == "browser" and switched["consecutiveErrors"] == 0
        assert await page_requests(world) > before  # the page's own GraphQL calls
        assert await new_tweet_ids(world, sid) == posted  # both, once, the gap closed

        for n in range(3):  # two browser polls, then a probe that is refused again
            posted.append(await world.tweet("ann", f"browser {n}"))
            await world.poll(sid)
            assert (await status(world, sid))["path"] == "browser"
            assert await new_tweet_ids(world, sid) == posted

        await world.control("DELETE", "/faults")  # GraphQL works again
        seen_by_path = []
        for n in range(3):  # two more browser polls, then the probe finds GraphQL back
            posted.append(await world.tweet("ann", f"after {n}"))
            await world.poll(sid)
            seen_by_path.append((await status(world, sid))["path"])
            assert await new_tweet_ids(world, sid) == posted
        assert seen_by_path == ["browser", "browser", "graphql"]

        before = await page_requests(world)
        posted.append(await world.tweet("ann", "back on graphql"))
        await world.poll(sid)
        assert (await status(world, sid))["path"] == "graphql"
        assert await page_requests(world) == before  # no page loaded any more
        ids = await new_tweet_ids(world, sid)
        assert ids == posted and len(set(ids)) == len(ids)
        errors = await world.events(sid, "stream:error")
        assert len(errors) == 1 and "HTTP 404" in errors[0]["error"]
        everything = caplog.text + repr(pool.status()) + repr(await world.events(sid))
        assert COOKIE not in everything  # the account's cookie, in the browser's jar too


async def test_a_challenge_on_a_search_is_served_by_the_search_page(pool: BrowserPool) -> None:
    """``browser_after=1``: the first refusal already goes through the browser. Mentions
    and searches load x.com's search page."""
    prefix = f"herald-test-{secrets.token_hex(4)}"
    async with browser_world(pool, prefix, browser_after=1) as world:
        for name in ("bob", "cat"):
            await world.control("POST", "/users", json={"username": name})
        search = await world.start("x:search", "kiwi")
        mention = await world.start("mention", "bob")
        for sid in (search, mention):
            await world.poll(sid)  # baselines on GraphQL
        await world.control("POST", "/faults", json={"mode": "challenge", "count": 10_000})
        kiwi = await world.tweet("cat", "kiwi season @bob")
        for sid in (search, mention):
            await world.poll(sid)
            assert (await status(world, sid))["path"] == "browser"
        assert await new_tweet_ids(world, search) == [kiwi]
        mentions = await world.events(mention, "stream:mention:new")
        assert [e["mention"]["id"] for e in mentions] == [kiwi]


async def follower_names(world: XWorld, stream_id: str, kind: str) -> list[str]:
    key = "unfollower" if kind == "stream:follower:lost" else "follower"
    return [e[key]["username"] for e in await world.events(stream_id, kind)]


async def test_a_follower_stream_is_served_by_the_followers_tab(pool: BrowserPool) -> None:
    """The followers tab pages through ``Followers`` as it scrolls: a full read of a list
    longer than one page (the count changed) finds who came and who left, once each."""
    prefix = f"herald-test-{secrets.token_hex(4)}"
    async with browser_world(pool, prefix, browser_after=1) as world:
        await world.control("POST", "/users", json={"username": "eve", "followers": 45})
        sid = await world.start("follower", "eve")
        await world.poll(sid)  # the baseline on GraphQL: 45 known, none announced
        await world.control("POST", "/faults", json={"mode": "challenge", "count": 10_000})
        await world.control("POST", "/users/eve/followers", json={"username": "newcomer"})
        before = await page_requests(world)
        await world.poll(sid)
        now = await status(world, sid)
        assert now["path"] == "browser" and now["consecutiveErrors"] == 0, now
        assert await page_requests(world) >= before + 4  # the user, then three pages scrolled
        assert await follower_names(world, sid, "stream:follower:new") == ["newcomer"]

        await world.control("DELETE", "/users/eve/followers/eve_fan7")
        await world.poll(sid)
        assert (await status(world, sid))["path"] == "browser"
        assert await follower_names(world, sid, "stream:follower:lost") == ["eve_fan7"]
        assert await follower_names(world, sid, "stream:follower:new") == ["newcomer"]


async def test_with_the_browser_off_a_refusal_stays_an_error(chromium: str) -> None:
    off = BrowserPool(chromium=chromium, enabled=False)
    prefix = f"herald-test-{secrets.token_hex(4)}"
    async with browser_world(off, prefix, browser_after=1) as world:
        await world.control("POST", "/users", json={"username": "dan"})
        sid = await world.start("tweet", "dan")
        await world.poll(sid)
        await world.control("POST", "/faults", json={"mode": "signature_refused", "count": 100})
        await world.tweet("dan", "unseen for now")
        for _ in range(2):
            await world.poll(sid)
        now = await status(world, sid)
        assert now["consecutiveErrors"] == 2 and now["lastErrorKind"] == "signature_refused"
        assert now["path"] == "graphql" and await new_tweet_ids(world, sid) == []
        assert await page_requests(world) == 0 and off.status()["launched"] == 0


async def test_a_browser_killed_mid_poll_loses_and_repeats_nothing(pool: BrowserPool) -> None:
    """kill -9 of Chromium while the page waits for its timeline: that poll fails, the next
    starts a new browser and reports what the failed one missed, once."""
    prefix = f"herald-test-{secrets.token_hex(4)}"
    async with browser_world(pool, prefix, browser_after=1, browser_probe_every=1000) as world:
        await world.control("POST", "/users", json={"username": "eve"})
        sid = await world.start("tweet", "eve")
        await world.poll(sid)
        await world.control("POST", "/faults", json={"mode": "signature_refused", "count": 10_000})
        posted = [await world.tweet("eve", "first through the browser")]
        await world.poll(sid)
        assert (await status(world, sid))["path"] == "browser"
        hang = {"mode": "timeout", "operation": "UserTweets", "count": 1, "seconds": 30}
        await world.control("POST", "/faults", json=hang)  # the page's next timeline call hangs
        posted.append(await world.tweet("eve", "posted while the browser dies"))
        asked = (await world.control("GET", "/requests"))["fromPages"]["UserTweets"]
        polling = asyncio.create_task(world.poll(sid))

        async def hanging() -> bool:
            seen = (await world.control("GET", "/requests"))["fromPages"]
            return bool(seen["UserTweets"] > asked)

        await wait_until(hanging, 15, what="the page's timeline call")
        pid = pool.status()["browsers"][0]["pid"]
        os.kill(pid, signal.SIGKILL)
        await asyncio.wait_for(polling, 15)
        failed = await status(world, sid)
        assert failed["consecutiveErrors"] == 1
        assert failed["lastErrorKind"] in ("browser_unavailable", "timeout")
        assert await new_tweet_ids(world, sid) == posted[:1]
        await world.poll(sid)  # a fresh browser
        assert (await status(world, sid))["path"] == "browser"
        assert await new_tweet_ids(world, sid) == posted
        assert pool.status()["browsers"][0]["pid"] != pid and pool.status()["restarts"] >= 1
