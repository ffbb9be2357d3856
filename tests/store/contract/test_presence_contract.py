"""The PresenceStore contract, on the twin, the embedded Valkey and Redis 7."""

from __future__ import annotations

import pytest
from backends import Backend, presence_on

from herald.store.presence import PresenceStore
from tests.waiting import wait_until


async def test_reports_add_up_per_node_and_replace_the_last(backend: Backend) -> None:
    presence = presence_on(backend)
    assert await presence.nodes() == {}
    assert await presence.report("a", {"ws": 2, "sse": 0}, 30) == {"a": {"ws": 2, "sse": 0}}
    both = await presence.report("b", {"socketio": 1}, 30)
    assert both == {"a": {"ws": 2, "sse": 0}, "b": {"socketio": 1}}
    await presence.report("a", {"ws": 1}, 30)  # a report replaces, never adds
    assert await presence.nodes() == {"a": {"ws": 1}, "b": {"socketio": 1}}


async def test_a_node_that_stops_reporting_lapses(backend: Backend) -> None:
    presence = presence_on(backend)
    await presence.report("gone", {"ws": 5}, 0.05)
    await presence.report("stays", {"ws": 1}, 30)
    await wait_until(lambda: _lapsed(presence, "gone"), timeout=5, what="the lease to lapse")
    assert await presence.nodes() == {"stays": {"ws": 1}}


async def test_forget_leaves_at_once(backend: Backend) -> None:
    presence = presence_on(backend)
    await presence.report("a", {"ws": 1}, 30)
    await presence.report("b", {"ws": 1}, 30)
    await presence.forget("a")
    await presence.forget("never-reported")
    assert await presence.nodes() == {"b": {"ws": 1}}


async def test_a_report_needs_a_node(backend: Backend) -> None:
    with pytest.raises(ValueError, match="node"):
        await presence_on(backend).report("", {"ws": 1}, 30)


async def test_keys_live_as_long_as_the_longest_lease(redis_backend: Backend) -> None:
    presence = presence_on(redis_backend)
    keys = redis_backend.keys
    await presence.report("a", {"ws": 1}, 100)
    await presence.report("b", {"ws": 1}, 10)
    for key in (keys.presence_nodes, keys.presence_counts):
        assert 95_000 <= await redis_backend.ttl_ms(key) <= 100_000, key
    await presence.forget("a")
    await presence.forget("b")
    await presence.nodes()
    assert await redis_backend.client.exists(keys.presence_nodes, keys.presence_counts) == 0


async def test_stored_counts_that_are_not_counts_are_ignored(redis_backend: Backend) -> None:
    presence = presence_on(redis_backend)
    await presence.report("a", {"ws": 1}, 30)
    await redis_backend.client.hset(redis_backend.keys.presence_counts, "a", b"not json")
    assert await presence.nodes() == {"a": {}}


async def _lapsed(presence: PresenceStore, node: str) -> bool:
    return node not in await presence.nodes()
