"""XSource and the one-off pollers over the stand-in serving X's recorded responses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from x_support import AUTH_TOKEN

from herald.config import Settings
from herald.errors import AccountAuthFailed
from herald.sources.base import PollContext
from herald.sources.x.accounts import AccountStore
from herald.sources.x.pollers import poll_followers, poll_mentions, poll_tweets
from herald.sources.x.source import XSource


@pytest.fixture
def recorded_settings(fakex_recorded_url: str, tmp_path: Path) -> Settings:
    return Settings(
        x_base_url=fakex_recorded_url,
        poll_timeout=5,
        data_dir=tmp_path,
        secret_key="test secret key",
    )


@pytest.fixture
async def recorded_source(
    recorded_settings: Settings, accounts: AccountStore
) -> AsyncIterator[XSource]:
    await accounts.add(AUTH_TOKEN)
    source = XSource(recorded_settings, accounts)
    yield source
    await source.aclose()


async def test_recorded_timeline(recorded_source: XSource) -> None:
    result = await recorded_source.fetch(PollContext("s", "tweet", "XDevelopers"))
    assert len(result.items) == 21
    assert sum(t.pinned for t in result.items) == 1
    assert result.cursor["userId"] == "2244994945"


async def test_a_big_account_gives_an_incomplete_snapshot(recorded_source: XSource) -> None:
    """695,695 followers: far over the limit, so absences must never become "lost"."""
    result = await recorded_source.fetch(
        PollContext("s", "follower", "XDevelopers", options={"followerSnapshotLimit": 50})
    )
    snap = result.followers
    assert snap is not None and snap.count == 695_695
    assert len(snap.followers or []) == 50 and snap.complete is False


async def test_one_off_pollers(recorded_settings: Settings) -> None:
    tweets = await poll_tweets("XDevelopers", auth_token=AUTH_TOKEN, settings=recorded_settings)
    ids = [int(t["id"]) for t in tweets]
    assert len(tweets) == 21 and ids == sorted(ids, reverse=True)
    assert set(tweets[0]) >= {"id", "text", "author", "authorName", "timestamp", "url"}

    followers = await poll_followers(
        "XDevelopers", auth_token=AUTH_TOKEN, settings=recorded_settings, limit=30
    )
    assert followers["followersCount"] == 695_695
    assert len(followers["followers"]) == 30
    assert set(followers["followers"][0]) == {"id", "username", "name"}

    mentions = await poll_mentions("XDevelopers", auth_token=AUTH_TOKEN, settings=recorded_settings)
    assert mentions and all(m["author"].lower() != "xdevelopers" for m in mentions)


async def test_one_off_poll_needs_a_session(recorded_settings: Settings) -> None:
    with pytest.raises(AccountAuthFailed, match="no X session"):
        await poll_tweets("XDevelopers", settings=recorded_settings)


async def test_a_search_stream_reads_the_recorded_search_and_what_was_posted(
    recorded_source: XSource, fakex_recorded_url: str
) -> None:
    """The recording answered a "tesla" search: a stream for it baselines on the recorded
    tweets, then finds a tweet posted since, and only that one is newer."""
    baseline = await recorded_source.fetch(PollContext("s", "x:search", "Tesla"))
    recorded = [t.id for t in baseline.items]
    assert len(recorded) == 20 and recorded[0] == "2074976613713031490"
    async with httpx.AsyncClient(base_url=fakex_recorded_url, timeout=10) as fakex:
        posted = await fakex.post("/_fakex/users/bob/tweets", json={"text": "Tesla news"})
        await fakex.post("/_fakex/users/bob/tweets", json={"text": "#rust news"})
    new_id = posted.json()["id"]
    high_water = max(int(i) for i in recorded)
    ctx = PollContext("s", "x:search", "Tesla", baseline=False, high_water=high_water)
    result = await recorded_source.fetch(ctx)
    assert result.gap is None
    assert [t.id for t in result.items if int(t.id) > high_water] == [new_id]
    assert result.items[0].text == "Tesla news" and result.items[0].author == "bob"
