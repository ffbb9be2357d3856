"""``account:health``: each change of an X account's health is recorded once, with its
event in the global log, however many workers see it; X's faults drive it through fakex."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from x_support import AUTH_TOKEN

from herald.config import Settings
from herald.errors import AccountAuthFailed, RateLimited
from herald.sources.base import PollContext
from herald.sources.x.accounts import AccountStore, Health
from herald.sources.x.source import XSource
from herald.store.keys import Keys
from herald.store.logreader import LogReader
from herald.store.secrets import Cipher

HEALTH = "account:health"


def context(account_id: str) -> PollContext:
    return PollContext(stream_id="s1", type="tweet", username="alice", account_id=account_id)


@pytest.fixture
async def source(x_settings: Settings, accounts: AccountStore) -> AsyncIterator[XSource]:
    source = XSource(x_settings, accounts)
    yield source
    await source.aclose()


@pytest.fixture
async def account_id(accounts: AccountStore) -> str:
    return (await accounts.add(AUTH_TOKEN, label="main")).id


async def fault(fakex: httpx.AsyncClient, **body: Any) -> None:
    response = await fakex.post("/_fakex/faults", json={"count": 1, **body})
    assert response.status_code == 201, response.text


async def health_events(redis: aioredis.Redis, keys: Keys) -> list[dict[str, Any]]:
    entries = await LogReader(redis, keys.events).after(None, 1000)
    return [dict(e.body) for e in entries if e.type == HEALTH]


async def test_rate_limit_auth_failure_and_recovery_are_one_event_each(
    source: XSource,
    accounts: AccountStore,
    fakex: httpx.AsyncClient,
    account_id: str,
    redis: aioredis.Redis,
    keys: Keys,
) -> None:
    await source.fetch(context(account_id))  # healthy: nothing to say
    assert await health_events(redis, keys) == []
    await fault(fakex, status=429, resetIn=300, operation="UserTweets")
    for _ in range(2):  # rate limited, then waiting for the reset: one transition
        with pytest.raises(RateLimited):
            await source.fetch(context(account_id))
    await accounts.limits.forget(account_id)  # X's reset passed (the budget key expired)
    await source.fetch(context(account_id))  # ok again
    await fault(fakex, status=401)
    with pytest.raises(AccountAuthFailed) as refused:
        await source.fetch(context(account_id))
    await source.fetch(context(account_id))  # the cookie works again
    events = await health_events(redis, keys)
    assert [(e["previous"], e["state"]) for e in events] == [
        ("ok", "rate_limited"),
        ("rate_limited", "ok"),
        ("ok", "auth_failed"),
        ("auth_failed", "ok"),
    ]
    stream = f"account:{account_id}"
    assert {e["streamId"] for e in events} == {stream}
    assert [e["eventId"] for e in events] == [f"account.health:{n}@{stream}" for n in (1, 2, 3, 4)]
    first = events[0]
    assert first["accountId"] == account_id and first["platform"] == "x"
    assert first["label"] == "main" and "rate limit" in first["reason"].lower()
    assert events[2]["reason"] == refused.value.detail
    assert events[1]["reason"] == ""
    assert AUTH_TOKEN not in str(events)
    # the account's own history holds them too (GET /api/streams/account:{id}/history)
    history = await redis.xrange(keys.history(stream))
    assert len(history) == 4
    account = await accounts.get(account_id)
    assert account.health == "ok" and account.health_seq == 4


async def test_many_workers_seeing_the_same_failure_record_it_once(
    redis: aioredis.Redis, keys: Keys, x_settings: Settings
) -> None:
    stores = [AccountStore(redis, keys, Cipher.from_settings(x_settings)) for _ in range(8)]
    account_id = (await stores[0].add(AUTH_TOKEN)).id
    changed = await asyncio.gather(
        *(s.set_health(account_id, "auth_failed", "HTTP 401") for s in stores)
    )
    assert sum(changed) == 1
    assert len(await health_events(redis, keys)) == 1


async def test_racing_verdicts_give_a_chain_without_holes(
    redis: aioredis.Redis, keys: Keys, x_settings: Settings
) -> None:
    """Workers disagreeing at once: every recorded transition has its event, each event's
    ``previous`` is the state the one before it left, and the last is the stored state."""
    stores = [AccountStore(redis, keys, Cipher.from_settings(x_settings)) for _ in range(6)]
    account_id = (await stores[0].add(AUTH_TOKEN)).id
    verdicts: list[Health] = ["rate_limited", "auth_failed", "ok"] * 2
    for _ in range(3):
        changed = await asyncio.gather(
            *(s.set_health(account_id, v, v) for s, v in zip(stores, verdicts, strict=True))
        )
        assert sum(changed) >= 1
    events = await health_events(redis, keys)
    for before, after in itertools.pairwise(events):
        assert after["previous"] == before["state"] and after["previous"] != after["state"]
    account = await stores[0].get(account_id)
    assert account.health == events[-1]["state"] and account.health_seq == len(events)


async def test_a_new_cookie_for_a_failed_account_is_a_transition_back_to_ok(
    accounts: AccountStore, redis: aioredis.Redis, keys: Keys
) -> None:
    account = await accounts.add(AUTH_TOKEN)
    await accounts.set_health(account.id, "suspended", "X suspended the account")
    await accounts.add(AUTH_TOKEN)  # the same cookie: the same verdict, no event
    await accounts.add(f"auth_token={AUTH_TOKEN}; ct0=fresh")
    events = await health_events(redis, keys)
    assert [(e["previous"], e["state"]) for e in events] == [
        ("ok", "suspended"),
        ("suspended", "ok"),
    ]
    assert events[1]["reason"] == "a new cookie was added"
    assert (await accounts.get(account.id)).health == "ok"


async def test_a_removed_account_gets_no_transition(
    accounts: AccountStore, redis: aioredis.Redis, keys: Keys
) -> None:
    account = await accounts.add(AUTH_TOKEN)
    await accounts.remove(account.id)
    assert not await accounts.set_health(account.id, "auth_failed", "late")
    assert await health_events(redis, keys) == []
    assert await redis.exists(keys.account(account.id)) == 0
