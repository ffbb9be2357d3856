"""The Mastodon source against fakedon (built from the cassettes): baselines, paging back to
what was seen with since_id and Link headers, the page bound and its gap, mentions with a
token, followers with exact counts and honest ``lost``."""

from __future__ import annotations

import pytest

from herald.errors import AccountAuthFailed, RateLimited, UpstreamError, UserNotFound
from herald.sources.base import PollContext
from herald.sources.mastodon.source import MastodonSource
from tests.sources.mastodon.conftest import TOKEN, Don, Stream

ME = "mastodonpy_test"


async def test_statuses_baseline_then_each_new_one_once(source: MastodonSource, don: Don) -> None:
    stream = Stream(source, "mastodon:status", f"{ME}@{don.host}")
    first = await stream.poll()
    assert len(first.items) == 2  # one page of HERALD_MASTODON_PAGE_SIZE
    stream.seen = {i.id for i in first.items}
    lookups = don.fake.requests["accounts/lookup"]
    assert await stream.new() == []
    new = [await don.post(ME, f"news {i} <b>&</b>") for i in range(3)]
    assert await stream.new() == new  # three over two pages of two: all of them, oldest first
    assert await stream.new() == []
    assert don.fake.requests["accounts/lookup"] == lookups  # the id is kept in the cursor
    status = (await stream.poll()).items
    assert status == []


async def test_more_new_than_the_page_bound_is_a_gap(source: MastodonSource, don: Don) -> None:
    stream = Stream(source, "mastodon:status", f"{ME}@{don.host}")
    await stream.new()
    before = don.fake.requests["accounts/statuses"]
    posted = [await don.post(ME, f"burst {i}") for i in range(9)]
    result = await stream.source.fetch(
        PollContext(
            stream_id="s1",
            type="mastodon:status",
            username=stream.target,
            cursor=stream.cursor,
            baseline=False,
            high_water=stream.high_water,
        )
    )
    assert don.fake.requests["accounts/statuses"] - before == 3  # HERALD_MAX_PAGES
    assert [i.id for i in result.items] == posted[::-1][:6]  # the newest six
    assert result.gap is not None and result.gap.pages == 3
    assert "HERALD_MAX_PAGES" in result.gap.reason


async def test_exactly_a_full_last_page_is_no_gap(source: MastodonSource, don: Don) -> None:
    stream = Stream(source, "mastodon:status", f"{ME}@{don.host}")
    await stream.new()
    posted = [await don.post(ME, f"four {i}") for i in range(4)]
    result = await stream.poll()
    assert sorted(i.id for i in result.items) == sorted(posted) and result.gap is None


async def test_hashtag_and_public_timelines(source: MastodonSource, don: Don) -> None:
    tag = Stream(source, "mastodon:hashtag", f"hoot@{don.host}")
    public = Stream(source, "mastodon:public", don.host, options={"local": True})
    assert len((await tag.poll()).items) == 1 and len((await public.poll()).items) == 2
    tagged = await don.post("mastodonpy_test_2", "more #Hoot here")
    untagged = await don.post("mastodonpy_test_2", "no tag")
    assert await tag.new() == [tagged]
    assert await public.new() == [tagged, untagged]
    empty = Stream(source, "mastodon:hashtag", f"nothingyet@{don.host}")
    assert (await empty.poll()).items == []  # an empty tag is no error
    assert await empty.new() == []


async def test_mentions_need_the_token_of_the_account(
    source: MastodonSource, don: Don, tokens: object
) -> None:
    await don.control("POST", "/tokens", json={"token": TOKEN, "account": ME})
    token_id = await source.register_token(TOKEN)
    stream = Stream(source, "mastodon:mention", f"{ME}@{don.host}", account_id=token_id)
    baseline = await stream.poll()
    assert [i.id for i in baseline.items] == ["21"]  # the recorded notification
    stream.seen = {"21"}
    await don.control("POST", "/mentions", json={"from": "admin", "to": ME, "text": "hi"})
    await don.post("admin", "not a mention")
    [new] = await stream.new()
    assert int(new) > 21
    verified = don.fake.requests["accounts/verify_credentials"]
    assert await stream.new() == []
    assert don.fake.requests["accounts/verify_credentials"] == verified == 1
    wrong = Stream(source, "mastodon:mention", f"admin@{don.host}", account_id=token_id)
    with pytest.raises(AccountAuthFailed, match="belongs to mastodonpy_test@"):
        await wrong.poll()
    anonymous = Stream(source, "mastodon:mention", don.host)
    with pytest.raises(AccountAuthFailed, match="authToken"):
        await anonymous.poll()


async def test_a_refused_token_is_auth_failed(source: MastodonSource, don: Don) -> None:
    token_id = await source.register_token("not-known-to-the-instance")
    stream = Stream(source, "mastodon:mention", don.host, account_id=token_id)
    with pytest.raises(AccountAuthFailed, match="refused the access token"):
        await stream.poll()
    public = Stream(source, "mastodon:public", don.host, account_id=token_id)
    with pytest.raises(AccountAuthFailed, match="refused the access token"):
        await public.poll()  # a bad token on a timeline is the token's fault, not a closed feed


async def test_followers_exact_count_new_and_lost(source: MastodonSource, don: Don) -> None:
    for name in ("f1", "f2", "f3"):
        await don.control("POST", f"/accounts/{ME}/followers", json={"username": name})
    stream = Stream(source, "mastodon:follower", f"{ME}@{don.host}", options={})
    base = await stream.poll()
    assert base.followers is not None and base.followers.complete
    assert base.followers.count == 3
    assert sorted(u.username for u in base.followers.followers or []) == [
        f"f{i}@{don.host}" for i in (1, 2, 3)
    ]
    await don.control("POST", f"/accounts/{ME}/followers", json={"username": "f4"})
    await don.control("DELETE", f"/accounts/{ME}/followers/f1")
    known = {u.id: u.username for u in base.followers.followers or []}
    cursor = stream.cursor
    swap = await source.fetch(
        PollContext(
            "s1",
            "mastodon:follower",
            stream.target,
            cursor=cursor,
            baseline=False,
            previous_count=3,
            known=known,
        )
    )
    # a swap leaves the count alone: the newest page shows the new one at once ...
    assert swap.followers is not None and swap.followers.count == 3
    assert not swap.followers.complete
    assert [u.username.split("@")[0] for u in swap.followers.followers or []][:1] == ["f4"]
    known |= {u.id: u.username for u in swap.followers.followers or []}
    # ... and the full list, read within HERALD_FOLLOWER_RESYNC_POLLS polls, who left
    for _ in range(3):
        cursor = dict(swap.cursor)
        swap = await source.fetch(
            PollContext(
                "s1",
                "mastodon:follower",
                stream.target,
                cursor=cursor,
                baseline=False,
                previous_count=3,
                known=known,
            )
        )
        assert swap.followers is not None
        if swap.followers.complete:
            break
    assert swap.followers.complete
    names = sorted(u.username.split("@")[0] for u in swap.followers.followers or [])
    assert names == ["f2", "f3", "f4"]


async def test_hidden_followers_report_the_count_and_say_so_once(
    source: MastodonSource, don: Don
) -> None:
    await don.control("POST", "/accounts", json={"username": "shy", "hideFollowers": True})
    await don.control("POST", "/accounts/shy/followers", json={"username": "fan"})
    stream = Stream(source, "mastodon:follower", f"shy@{don.host}")
    first = await stream.poll()
    assert first.followers is not None and first.followers.followers is None
    assert first.followers.count == 1
    assert [n.kind for n in first.notices] == ["followers_hidden"]
    assert (await stream.poll()).notices == ()


async def test_unknown_account_and_server_errors(source: MastodonSource, don: Don) -> None:
    with pytest.raises(UserNotFound, match="not found"):
        await Stream(source, "mastodon:status", f"nobody@{don.host}").poll()
    await don.control("POST", "/faults", json={"status": 503})
    with pytest.raises(UpstreamError, match="503"):
        await Stream(source, "mastodon:public", don.host).poll()
    await don.control("POST", "/ratelimit", json={"remaining": 0, "resetIn": 30})
    with pytest.raises(RateLimited) as caught:
        await Stream(source, "mastodon:public", don.host).poll()
    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 31
