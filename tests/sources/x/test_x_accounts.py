"""AccountStore against real Redis: encryption at rest, deterministic ids, health, the pool."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as aioredis

from herald.errors import RateLimited
from herald.sources.x.accounts import AccountNotFound, AccountStore, NoUsableAccount
from herald.sources.x.ratelimit import Budget
from herald.store.keys import Keys
from herald.store.secrets import Cipher

TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
OTHER = "ffeeddccbbaa99887766554433221100ffeeddcc"


@pytest.fixture
def store(redis: aioredis.Redis, keys: Keys) -> AccountStore:
    return AccountStore(redis, keys, Cipher("test passphrase"))


async def all_values(redis: aioredis.Redis, prefix: str) -> list[bytes]:
    """Every key name and stored value under the prefix, whatever the type."""
    found: list[bytes] = []
    async for key in redis.scan_iter(match=f"{prefix}:*"):
        found.append(key)
        kind = (await redis.type(key)).decode()
        if kind == "hash":
            for field, value in (await redis.hgetall(key)).items():
                found += [field, value]
        elif kind == "zset":
            found += list(await redis.zrange(key, 0, -1))
        elif kind == "string":
            found.append(await redis.get(key))
    return found


async def test_cookie_is_encrypted_at_rest(
    store: AccountStore, redis: aioredis.Redis, keys: Keys
) -> None:
    cookie = f"auth_token={TOKEN}; ct0=c0ffee"
    account = await store.add(cookie, label="main")
    raw = await redis.hgetall(keys.account(account.id))
    assert raw[b"cookie"] and TOKEN.encode() not in raw[b"cookie"]
    everything = b"\n".join(await all_values(redis, keys.prefix))
    assert TOKEN.encode() not in everything
    assert b"c0ffee" not in everything
    assert await store.cookie(account.id) == cookie


async def test_same_token_same_account(store: AccountStore, keys: Keys) -> None:
    first = await store.add(TOKEN)
    again = await store.add(f"auth_token={TOKEN}; ct0=abc", label="renamed")
    other = await store.add(OTHER)
    assert first.id == again.id != other.id
    assert TOKEN not in first.id
    assert [a.id for a in await store.list()] == [first.id, other.id]
    assert (await store.get(first.id)).label == "renamed"
    assert await store.cookie(first.id) == f"auth_token={TOKEN}; ct0=abc"


async def test_id_depends_on_the_secret_key(redis: aioredis.Redis, keys: Keys) -> None:
    one = AccountStore(redis, keys, Cipher("one")).account_id(TOKEN)
    two = AccountStore(redis, keys, Cipher("two")).account_id(TOKEN)
    assert one != two


async def test_public_view_and_repr_never_hold_the_cookie(store: AccountStore) -> None:
    account = await store.add(TOKEN, label="main")
    public = account.to_public()
    assert set(public) == {"id", "label", "health", "healthReason", "addedAt", "lastUsed"}
    assert public["health"] == "ok" and public["addedAt"].endswith("Z")
    assert TOKEN not in str(public) and TOKEN not in repr(account) and TOKEN not in repr(store)


async def test_health_and_remove(store: AccountStore, redis: aioredis.Redis, keys: Keys) -> None:
    account = await store.add(TOKEN)
    await store.set_health(account.id, "auth_failed", "X refused the session cookie (HTTP 401)")
    got = await store.get(account.id)
    assert (got.health, got.health_reason) == (
        "auth_failed",
        "X refused the session cookie (HTTP 401)",
    )
    await store.limits.record(account.id, "UserTweets", Budget(0, time.time() + 60))
    assert await store.remove(account.id) is True
    assert await store.remove(account.id) is False
    assert await redis.exists(keys.rate_limits(account.id)) == 0
    with pytest.raises(AccountNotFound):
        await store.get(account.id)
    await store.set_health(account.id, "ok")  # a late verdict does not resurrect it
    await store.touch(account.id)  # nor does a late "used now"
    assert await redis.exists(keys.account(account.id)) == 0


async def test_readding_a_new_cookie_resets_health(store: AccountStore) -> None:
    account = await store.add(TOKEN)
    await store.set_health(account.id, "auth_failed", "expired")
    assert (await store.add(TOKEN)).health == "auth_failed"  # same cookie: same verdict
    assert (await store.add(f"auth_token={TOKEN}; ct0=new")).health == "ok"


async def test_env_account_is_registered_once(store: AccountStore) -> None:
    assert await store.env_account(None) is None
    env = await store.env_account(TOKEN)
    assert env is not None and env.label == "env"
    again = await store.env_account(TOKEN)
    assert again is not None and again.id == env.id
    assert len(await store.list()) == 1


async def test_pick_prefers_the_env_cookie_and_registers_it_again_after_removal(
    store: AccountStore,
) -> None:
    pooled = await store.add(OTHER, label="pool")
    env_id = store.env_id(TOKEN)
    assert (await store.pick("UserTweets", env_cookie=TOKEN)).id == env_id
    assert {a.id for a in await store.list()} == {pooled.id, env_id}
    assert await store.remove(env_id) is True
    again = await store.pick("UserTweets", env_cookie=TOKEN)
    assert again.id == env_id and again.label == "env"
    assert await store.cookie(env_id) == TOKEN


async def test_cookie_follows_a_replaced_cookie(store: AccountStore) -> None:
    account = await store.add(TOKEN)
    assert await store.cookie(account.id) == TOKEN
    await store.add(f"auth_token={TOKEN}; ct0=fresh")
    await store.pick("UserTweets")  # a poll reads the list before it asks for the cookie
    assert await store.cookie(account.id) == f"auth_token={TOKEN}; ct0=fresh"


async def test_pick_prefers_then_rotates_past_spent_budgets(store: AccountStore) -> None:
    first = await store.add(TOKEN, label="first")
    second = await store.add(OTHER, label="second")
    assert (await store.pick("UserTweets", preferred=second.id)).id == second.id
    await store.limits.record(second.id, "UserTweets", Budget(0, time.time() + 120))
    assert (await store.pick("UserTweets", preferred=second.id)).id == first.id
    # another endpoint's budget is separate
    assert (await store.pick("Followers", preferred=second.id)).id == second.id
    await store.limits.record(first.id, "UserTweets", Budget(0, time.time() + 60))
    with pytest.raises(RateLimited) as caught:
        await store.pick("UserTweets")
    assert caught.value.retry_after is not None and 50 < caught.value.retry_after <= 60
    assert caught.value.counts_as_error is False


async def test_pick_skips_unhealthy_accounts(store: AccountStore) -> None:
    with pytest.raises(NoUsableAccount, match="no X session"):
        await store.pick("UserTweets")
    first = await store.add(TOKEN)
    second = await store.add(OTHER)
    await store.set_health(first.id, "locked", "X locked the account")
    assert (await store.pick("UserTweets", preferred=first.id)).id == second.id
    await store.set_health(second.id, "suspended", "X suspended the account")
    with pytest.raises(NoUsableAccount, match="no healthy X account"):
        await store.pick("UserTweets")
    await store.set_health(second.id, "rate_limited", "429")  # rate_limited is still usable
    assert (await store.pick("UserTweets")).id == second.id


async def test_least_recently_used_goes_first(store: AccountStore) -> None:
    first = await store.add(TOKEN)
    second = await store.add(OTHER)
    await store.touch(first.id)
    assert (await store.pick("UserTweets")).id == second.id
    await store.touch(second.id)
    assert (await store.pick("UserTweets")).id == first.id


async def test_empty_cookie_is_refused(store: AccountStore) -> None:
    from herald.errors import ValidationError

    with pytest.raises(ValidationError):
        await store.add("   ")
