"""XSource against the X stand-in on loopback and real Redis: each stream type, end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from x_support import AUTH_TOKEN

from herald.config import Settings
from herald.errors import AccountAuthFailed
from herald.sources.base import FetchResult, PollContext, Source
from herald.sources.x.accounts import AccountStore
from herald.sources.x.source import XSource


def context(kind: str, username: str, **extra: Any) -> PollContext:
    return PollContext(stream_id="s1", type=kind, username=username, **extra)


@pytest.fixture
async def source(x_settings: Settings, accounts: AccountStore) -> AsyncIterator[XSource]:
    source = XSource(x_settings, accounts)
    yield source
    await source.aclose()


@pytest.fixture
async def account_id(accounts: AccountStore) -> str:
    return (await accounts.add(AUTH_TOKEN, label="main")).id


async def requests_seen(fakex: httpx.AsyncClient) -> dict[str, int]:
    operations: dict[str, int] = (await fakex.get("/_fakex/requests")).json()["operations"]
    return operations


def test_it_is_a_source(source: XSource) -> None:
    assert isinstance(source, Source)
    assert source.stream_types == ("tweet", "follower", "mention", "x:search", "x:dm")


async def test_tweets_with_the_pinned_one_flagged(
    source: XSource, fakex: httpx.AsyncClient, account_id: str
) -> None:
    first = await source.fetch(context("tweet", "alice", account_id=account_id))
    texts = {t.text: t for t in first.items}
    assert len(first.items) == 3
    assert texts["Hello from alice, this is my pinned tweet."].pinned is True
    assert texts["Reading about snowflake ids <3 & Redis streams"].author == "alice"
    assert sum(t.pinned for t in first.items) == 1
    assert first.cursor["userId"]

    posted = (await fakex.post("/_fakex/users/alice/tweets", json={"text": "fresh"})).json()
    before = await requests_seen(fakex)
    newest = max(t.order for t in first.items)
    second = await source.fetch(
        context(
            "tweet",
            "alice",
            account_id=account_id,
            cursor=first.cursor,
            baseline=False,
            high_water=newest,
        )
    )
    after = await requests_seen(fakex)
    assert posted["id"] in {t.id for t in second.items}
    # the cached user id saves the profile lookup
    assert after.get("UserByScreenName") == before.get("UserByScreenName")
    assert after["UserTweets"] == before["UserTweets"] + 1


async def test_a_renamed_stream_looks_the_user_up_again(source: XSource, account_id: str) -> None:
    alice = await source.fetch(context("tweet", "alice", account_id=account_id))
    bob = await source.fetch(context("tweet", "bob", account_id=account_id, cursor=alice.cursor))
    assert {t.author for t in bob.items} == {"bob"}
    assert bob.cursor["userId"] != alice.cursor["userId"]


async def test_mentions_exclude_the_users_own_tweets(
    source: XSource, fakex: httpx.AsyncClient, account_id: str
) -> None:
    await fakex.post("/_fakex/users/alice/tweets", json={"text": "talking to myself @alice"})
    await fakex.post("/_fakex/users/bob/tweets", json={"text": "hey @alice, lunch?"})
    result = await source.fetch(context("mention", "alice", account_id=account_id))
    assert {t.author for t in result.items} == {"bob", "carol"}
    assert "hey @alice, lunch?" in {t.text for t in result.items}
    assert all("@alice" in t.text.lower() for t in result.items)


async def test_followers_baseline_then_newest_page_then_list_on_change(
    source: XSource, fakex: httpx.AsyncClient, account_id: str
) -> None:
    baseline = await source.fetch(context("follower", "alice", account_id=account_id))
    snap = baseline.followers
    assert snap is not None and snap.count == 2 and snap.complete is True
    assert sorted(u.username for u in snap.followers or []) == ["bob", "carol"]
    known = {u.id for u in snap.followers or []}

    before = await requests_seen(fakex)
    same = await source.fetch(
        context(
            "follower",
            "alice",
            account_id=account_id,
            baseline=False,
            previous_count=2,
            cursor=baseline.cursor,
            known=known,
        )
    )
    after = await requests_seen(fakex)
    assert same.followers is not None and same.followers.count == 2
    # the count is unchanged: the newest page only, which cannot tell who left
    assert {u.id for u in same.followers.followers or []} == known
    assert same.followers.complete is False
    assert after["Followers"] == before["Followers"] + 1

    await fakex.post("/_fakex/users/alice/followers", json={"username": "dave"})
    await fakex.delete("/_fakex/users/alice/followers/bob")
    await fakex.post("/_fakex/users/alice/followers", json={"username": "erin"})
    changed = await source.fetch(
        context("follower", "alice", account_id=account_id, baseline=False, previous_count=2)
    )
    assert changed.followers is not None and changed.followers.count == 3
    assert sorted(u.username for u in changed.followers.followers or []) == [
        "carol",
        "dave",
        "erin",
    ]
    assert changed.followers.complete is True


async def test_followers_are_paged_to_the_end(
    source: XSource, fakex: httpx.AsyncClient, account_id: str
) -> None:
    await fakex.post("/_fakex/users", json={"username": "popular", "followers": 250})
    result = await source.fetch(context("follower", "popular", account_id=account_id))
    snap = result.followers
    assert snap is not None and snap.count == 250 and snap.complete is True
    assert len({u.id for u in snap.followers or []}) == 250
    assert (await requests_seen(fakex))["Followers"] >= 3  # 100 a page


async def test_over_the_limit_the_snapshot_is_incomplete(
    source: XSource, fakex: httpx.AsyncClient, account_id: str
) -> None:
    await fakex.post("/_fakex/users", json={"username": "famous", "followers": 40})
    options = {"followerSnapshotLimit": 25}
    result = await source.fetch(
        context("follower", "famous", account_id=account_id, options=options)
    )
    snap = result.followers
    assert snap is not None and snap.count == 40
    assert len(snap.followers or []) == 25 and snap.complete is False


async def test_no_followers_is_a_complete_empty_snapshot(
    source: XSource, fakex: httpx.AsyncClient, account_id: str
) -> None:
    await fakex.post("/_fakex/users", json={"username": "lonely"})
    result = await source.fetch(context("follower", "lonely", account_id=account_id))
    assert result.followers is not None
    assert (result.followers.count, result.followers.followers) == (0, [])
    assert result.followers.complete is True


async def test_a_new_user_has_a_legitimately_empty_timeline(
    source: XSource, fakex: httpx.AsyncClient, account_id: str
) -> None:
    await fakex.post("/_fakex/users", json={"username": "quiet"})
    result = await source.fetch(context("tweet", "quiet", account_id=account_id))
    assert isinstance(result, FetchResult) and result.items == []


async def test_env_cookie_is_registered_and_used(
    x_settings: Settings, accounts: AccountStore
) -> None:
    settings = x_settings.model_copy(update={"session_cookie": AUTH_TOKEN})
    source = XSource(settings, accounts)
    try:
        result = await source.fetch(context("tweet", "alice"))
    finally:
        await source.aclose()
    assert len(result.items) == 3
    (env,) = await accounts.list()
    assert env.label == "env" and env.health == "ok" and env.last_used is not None


async def test_pool_account_is_used_without_a_stream_account(
    source: XSource, accounts: AccountStore, account_id: str
) -> None:
    result = await source.fetch(context("tweet", "alice"))
    assert len(result.items) == 3
    assert (await accounts.get(account_id)).last_used is not None


async def test_no_session_at_all(source: XSource) -> None:
    with pytest.raises(AccountAuthFailed, match="no X session: pass authToken"):
        await source.fetch(context("tweet", "alice"))


async def test_from_settings_builds_in_one_line(
    x_settings: Settings, redis: Any, keys: Any
) -> None:
    source = XSource.from_settings(x_settings, redis, keys)
    try:
        await source.accounts.add(AUTH_TOKEN)
        assert len((await source.fetch(context("tweet", "alice"))).items) == 3
    finally:
        await source.aclose()
