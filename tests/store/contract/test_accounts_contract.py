"""The AccountRecordStore contract, on the twin, the embedded Valkey and Redis 7."""

from __future__ import annotations

from backends import Backend, accounts_on

from herald.store.codec import text


def fields(raw: object) -> dict[str, str]:
    return {text(k): text(v) for k, v in dict(raw).items()}  # type: ignore[call-overload]


async def test_put_then_get(backend: Backend) -> None:
    accounts = accounts_on(backend)
    assert not await accounts.get("a1")
    assert await accounts.sealed("a1") is None
    await accounts.put("a1", b"sealed-1", "main", fresh=True, now=100.0)
    got = fields(await accounts.get("a1"))
    assert got["cookie"] == "sealed-1" and got["label"] == "main"
    assert got["health"] == "ok" and float(got["addedAt"]) == 100.0
    assert await accounts.sealed("a1") == b"sealed-1"


async def test_refresh_keeps_added_at_and_health_unless_fresh(backend: Backend) -> None:
    accounts = accounts_on(backend)
    await accounts.put("a1", b"s1", "main", fresh=True, now=100.0)
    await accounts.set_health("a1", "auth_failed", "HTTP 401")
    await accounts.put("a1", b"s1", None, fresh=False, now=200.0)  # the same cookie again
    got = fields(await accounts.get("a1"))
    assert (got["health"], got["healthReason"]) == ("auth_failed", "HTTP 401")
    assert float(got["addedAt"]) == 100.0 and got["label"] == "main"
    await accounts.put("a1", b"s2", None, fresh=True, now=300.0)  # a new cookie
    got = fields(await accounts.get("a1"))
    assert (got["health"], got["healthReason"], got["cookie"]) == ("ok", "", "s2")


async def test_all_is_oldest_first(backend: Backend) -> None:
    accounts = accounts_on(backend)
    await accounts.put("b", b"s", None, fresh=True, now=200.0)
    await accounts.put("a", b"s", None, fresh=True, now=300.0)
    await accounts.put("c", b"s", None, fresh=True, now=100.0)
    await accounts.put("b", b"s", None, fresh=False, now=400.0)  # re-adding keeps its place
    assert [account_id for account_id, _ in await accounts.all()] == ["c", "b", "a"]


async def test_removed_account_is_not_resurrected(backend: Backend) -> None:
    accounts = accounts_on(backend)
    await accounts.put("a1", b"s", None, fresh=True, now=100.0)
    assert await accounts.remove("a1")
    assert not await accounts.remove("a1")
    await accounts.set_health("a1", "ok", "")  # a late verdict
    await accounts.touch("a1", 500.0)  # a late "used now"
    assert not await accounts.get("a1")
    assert await accounts.all() == []


async def test_touch_records_last_use(backend: Backend) -> None:
    accounts = accounts_on(backend)
    await accounts.put("a1", b"s", None, fresh=True, now=100.0)
    await accounts.touch("a1", 150.5)
    assert float(fields(await accounts.get("a1"))["lastUsed"]) == 150.5


async def test_index_entry_without_a_record_is_dropped(redis_backend: Backend) -> None:
    accounts = accounts_on(redis_backend)
    await accounts.put("a1", b"s", None, fresh=True, now=100.0)
    await accounts.put("a2", b"s", None, fresh=True, now=200.0)
    await redis_backend.client.delete(
        redis_backend.keys.account("a1")
    )  # expired or deleted by hand
    assert [account_id for account_id, _ in await accounts.all()] == ["a2"]
    assert await redis_backend.client.zrange(redis_backend.keys.accounts, 0, -1) == [b"a2"]
