"""The WebhookStore contract, on the twin, the embedded Valkey and Redis 7."""

from __future__ import annotations

import orjson
from backends import Backend

from herald.events import decode
from herald.store.memory import MemoryWebhookStore
from herald.store.webhooks import RedisWebhookStore, WebhookStore, health_stream
from herald.webhooks.consumer import health_change


def hooks_on(backend: Backend, kept: int = 3) -> WebhookStore:
    if backend.redis is None:
        return MemoryWebhookStore(attempts_kept=kept)
    return RedisWebhookStore(backend.redis, backend.keys, attempts_kept=kept)


def hook(hid: str, **extra: object) -> dict[str, object]:
    return {"id": hid, "url": "https://93.184.215.14/h", "enabled": True, **extra}


async def test_endpoints_in_creation_order_and_versions(backend: Backend) -> None:
    store = hooks_on(backend)
    assert isinstance(store, WebhookStore)
    v0 = await store.version()
    for hid in ("b", "a"):
        assert await store.create(hook(hid), "5-0")
    assert not await store.create(hook("a", url="x"), "9-0")  # an id in use changes nothing
    assert [e["id"] for e in await store.endpoints()] == ["b", "a"]
    assert (await store.state("a"))["offset"] == "5-0"
    assert await store.version() == v0 + 2
    assert await store.replace(hook("a", enabled=False), reset=False)
    assert orjson.loads(await store.endpoint_raw("a") or b"{}")["enabled"] is False
    assert not await store.replace(hook("zz"), reset=False)
    assert await store.delete("a") and not await store.delete("a")
    assert await store.state("a") == {} and await store.endpoint_raw("a") is None


async def test_the_lease_fences_every_write(backend: Backend) -> None:
    store = hooks_on(backend)
    await store.create(hook("h"), "1-0")
    assert await store.acquire("h", "one", 10_000)
    assert not await store.acquire("h", "two", 10_000)
    assert await store.acquire("h", "one", 10_000)  # renewing is acquiring again
    assert not await store.commit("h", "two", "2-0", b'{"n":1}', True)
    assert not await store.fail("h", "two", "2-0", 1, 0, b'{"n":1}', "HTTP 500")
    assert (await store.state("h"))["offset"] == "1-0" and await store.attempts("h", 10) == []
    assert await store.commit("h", "one", "2-0", b'{"n":1}', True)
    await store.release("h", "two")  # not theirs: nothing happens
    assert not await store.acquire("h", "two", 10_000)
    await store.release("h", "one")
    assert await store.acquire("h", "two", 10_000)


async def test_failures_then_a_commit_and_capped_attempts(backend: Backend) -> None:
    store = hooks_on(backend, kept=3)
    await store.create(hook("h"), "1-0")
    await store.acquire("h", "me", 10_000)
    for n in (1, 2):
        assert await store.fail("h", "me", "2-0", n, 1000 * n, orjson.dumps({"n": n}), "HTTP 503")
    state = await store.state("h")
    assert state["retryOffset"] == "2-0" and state["retryAttempts"] == "2"
    assert state["nextAt"] == "2000" and state["failed"] == "2" and state["lastError"] == "HTTP 503"
    since = state["failingSince"]
    assert await store.commit("h", "me", "2-0", orjson.dumps({"n": 3}), True)
    assert await store.commit("h", "me", "3-0", None, False)  # a skip records nothing
    await store.record("h", orjson.dumps({"n": 4}))
    state = await store.state("h")
    assert "retryOffset" not in state and "failingSince" not in state and since
    assert state["offset"] == "3-0" and state["delivered"] == "1"
    assert [a["n"] for a in await store.attempts("h", 10)] == [4, 3, 2]  # newest first, capped


async def test_disable_compares_and_sets_with_one_health_event(backend: Backend) -> None:
    store = hooks_on(backend)
    await store.create(hook("h"), "1-0")
    await store.acquire("h", "me", 10_000)
    raw = await store.endpoint_raw("h")
    assert raw is not None
    off = {**orjson.loads(raw), "enabled": False, "disabledReason": "410"}
    change = health_change("h", 0, "disabled", "ok", "410")
    assert await store.disable("h", "other", raw, off, change, None) == "fenced"
    assert await store.disable("h", "me", b"{}", off, change, None) == "changed"
    v = await store.version()
    assert await store.disable("h", "me", raw, off, change, b'{"n":1}') == "moved"
    assert await store.version() == v + 1
    assert orjson.loads(await store.endpoint_raw("h") or b"{}")["enabled"] is False
    state = await store.state("h")
    assert state["health"] == "disabled" and state["healthSeq"] == "1"
    assert await store.health("h", health_change("h", 0, "ok", "x", "y")) == "stale"
    assert await store.health("h", health_change("h", 1, "ok", "disabled", "back")) == "moved"
    if backend.redis is None:
        assert isinstance(store, MemoryWebhookStore)
        bodies = [orjson.loads(e) for e in store.events]
    else:
        entries = await backend.client.xrange(backend.keys.events)
        bodies = [decode(fields[b"e"]) for _, fields in entries]
        assert {f[b"s"] for _, f in entries} == {health_stream("h").encode()}
    assert [(b["state"], b["previous"]) for b in bodies] == [("disabled", "ok"), ("ok", "disabled")]
    assert bodies[0]["type"] == "webhook:health" and bodies[0]["webhookId"] == "h"


async def test_a_reset_forgets_the_retry(backend: Backend) -> None:
    store = hooks_on(backend)
    await store.create(hook("h"), "1-0")
    await store.acquire("h", "me", 10_000)
    await store.fail("h", "me", "2-0", 8, 0, b"{}", "gave up")
    assert await store.replace(hook("h"), reset=False)
    assert (await store.state("h"))["retryAttempts"] == "8"
    assert await store.replace(hook("h"), reset=True)
    assert "retryAttempts" not in await store.state("h")


async def test_a_skip_compares_the_endpoint_and_the_offset(backend: Backend) -> None:
    store = hooks_on(backend)
    await store.create(hook("h", enabled=False), "1-0")
    await store.acquire("h", "me", 10_000)
    await store.fail("h", "me", "2-0", 8, 0, orjson.dumps({"n": 1}), "HTTP 500")
    raw = await store.endpoint_raw("h")
    assert raw is not None
    mark = orjson.dumps({"n": 2, "skipped": True})
    assert await store.skip("h", b"{}", "1-0", "2-0", mark) == "changed"
    assert await store.skip("h", raw, "0-5", "2-0", mark) == "moved"
    state = await store.state("h")
    assert state["offset"] == "1-0" and state["retryOffset"] == "2-0"  # nothing moved
    assert await store.skip("h", raw, "1-0", "2-0", mark) == "skipped"
    state = await store.state("h")
    assert state["offset"] == "2-0" and state["skipped"] == "1"
    assert not {"retryOffset", "retryAttempts", "nextAt", "failingSince"} & set(state)
    assert [a["n"] for a in await store.attempts("h", 10)] == [2, 1]
    assert await store.skip("h", raw, "1-0", "2-0", mark) == "moved"  # said twice: once
    assert await store.skip("nope", raw, "1-0", "2-0", mark) == "changed"
