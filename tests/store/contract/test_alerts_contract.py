"""The AlertStore contract, on the twin, the embedded Valkey and Redis 7."""

from __future__ import annotations

from backends import Backend

from herald.store.alerts import AlertStore, RedisAlertStore
from herald.store.memory import MemoryAlertStore


def alerts_on(backend: Backend) -> AlertStore:
    if backend.redis is None:
        return MemoryAlertStore()
    return RedisAlertStore(backend.redis, backend.keys)


def rule(rid: str, threshold: int = 1) -> dict[str, object]:
    return {"id": rid, "type": "volume", "threshold": threshold}


async def test_rules_list_in_creation_order(backend: Backend) -> None:
    store = alerts_on(backend)
    assert isinstance(store, AlertStore)
    assert await store.rules() == []
    for rid in ("b", "a", "c"):
        assert await store.create_rule(rule(rid))
    assert [r["id"] for r in await store.rules()] == ["b", "a", "c"]
    assert await store.rule("a") == rule("a")
    assert await store.rule("nope") is None


async def test_create_refuses_an_existing_id_and_keeps_the_first(backend: Backend) -> None:
    store = alerts_on(backend)
    assert await store.create_rule(rule("a", 1))
    version = await store.version()
    assert not await store.create_rule(rule("a", 2))
    assert await store.rule("a") == rule("a", 1)
    assert await store.version() == version, "a refused create changes nothing"


async def test_replace_only_an_existing_rule_and_keep_its_place(backend: Backend) -> None:
    store = alerts_on(backend)
    assert not await store.replace_rule(rule("a"))
    assert await store.rules() == []
    await store.create_rule(rule("a"))
    await store.create_rule(rule("b"))
    assert await store.replace_rule(rule("a", 5))
    assert [r["threshold"] for r in await store.rules()] == [5, 1]


async def test_every_change_moves_the_version(backend: Backend) -> None:
    store = alerts_on(backend)
    seen = [await store.version()]
    await store.create_rule(rule("a"))
    seen.append(await store.version())
    await store.replace_rule(rule("a", 3))
    seen.append(await store.version())
    await store.put_silence({"id": "s", "startsAt": 1.0, "endsAt": 2.0, "matchers": []})
    seen.append(await store.version())
    await store.delete_silence("s")
    seen.append(await store.version())
    await store.delete_rule("a")
    seen.append(await store.version())
    assert seen == sorted(set(seen)), f"strictly increasing: {seen}"


async def test_delete_removes_the_rule_and_its_status(backend: Backend) -> None:
    store = alerts_on(backend)
    await store.create_rule(rule("a"))
    await store.set_statuses({"a": {"state": "firing"}, "ghost": {"state": "firing"}})
    assert await store.statuses() == {"a": {"state": "firing"}}, "no status for unknown rules"
    assert await store.delete_rule("a")
    assert not await store.delete_rule("a")
    assert await store.rules() == [] and await store.statuses() == {}


async def test_silences_sorted_by_start_and_deleted_once(backend: Backend) -> None:
    store = alerts_on(backend)
    await store.put_silence({"id": "late", "startsAt": 5.0, "endsAt": 9.0, "matchers": []})
    await store.put_silence({"id": "early", "startsAt": 1.0, "endsAt": 9.0, "matchers": []})
    assert [s["id"] for s in await store.silences()] == ["early", "late"]
    assert await store.delete_silence("early")
    assert not await store.delete_silence("early")
    assert [s["id"] for s in await store.silences()] == ["late"]
