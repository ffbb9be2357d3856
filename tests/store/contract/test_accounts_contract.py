"""The AccountRecordStore contract, on the twin, the embedded Valkey and Redis 7."""

from __future__ import annotations

from backends import Backend, accounts_on

from herald.events import Event, EventType
from herald.store.accounts import Verdict
from herald.store.codec import text
from herald.store.logreader import LogReader
from herald.store.memory import MemoryAccountRecords


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


def health_event(account_id: str, seq: int, state: str, previous: str) -> Event:
    payload = {"accountId": account_id, "state": state, "previous": previous, "reason": "r"}
    return Event(EventType.ACCOUNT_HEALTH, f"account:{account_id}", account_id, str(seq), payload)


async def logged(backend: Backend, accounts: object) -> list[str]:
    """The eventIds a transition appended, oldest first, in the global log (or the twin's)."""
    if backend.redis is None:
        assert isinstance(accounts, MemoryAccountRecords)
        return list(accounts.logged)
    entries = await LogReader(backend.client, backend.keys.events).after(None, 100)
    return [str(e.body["eventId"]) for e in entries]


async def test_a_transition_is_a_compare_and_set_that_logs_once(backend: Backend) -> None:
    accounts = accounts_on(backend)
    await accounts.put("a1", b"s", None, fresh=True, now=100.0)
    first = health_event("a1", 1, "rate_limited", "ok")
    assert await accounts.transition("a1", 0, "rate_limited", "429", first) == Verdict(
        "moved", "rate_limited", 1
    )
    # a second worker with the same (now stale) expectation changes nothing
    again = await accounts.transition(
        "a1", 0, "auth_failed", "401", health_event("a1", 1, "x", "ok")
    )
    assert again == Verdict("stale", "rate_limited", 1)
    # the same state: only the reason moves, no event
    same = await accounts.transition("a1", 1, "rate_limited", "429 again", first)
    assert same == Verdict("same", "rate_limited", 1)
    got = fields(await accounts.get("a1"))
    assert (got["health"], got["healthReason"], got["healthSeq"]) == (
        "rate_limited",
        "429 again",
        "1",
    )
    back = health_event("a1", 2, "ok", "rate_limited")
    assert await accounts.transition("a1", 1, "ok", "", back) == Verdict("moved", "ok", 2)
    assert await logged(backend, accounts) == [first.event_id, back.event_id]


async def test_a_transition_of_a_missing_account_does_nothing(backend: Backend) -> None:
    accounts = accounts_on(backend)
    event = health_event("ghost", 1, "auth_failed", "ok")
    assert await accounts.transition("ghost", 0, "auth_failed", "r", event) is None
    assert not await accounts.get("ghost")
    assert await logged(backend, accounts) == []
