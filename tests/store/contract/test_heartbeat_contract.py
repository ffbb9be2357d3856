"""The HeartbeatStore contract, on the twin, the embedded Valkey and Redis 7."""

from __future__ import annotations

import os

from backends import Backend, heartbeats_on

from herald.store.heartbeats import HeartbeatStore
from tests.waiting import wait_until


async def test_beat_marks_alive_and_reports_a_lapse(backend: Backend) -> None:
    beats = heartbeats_on(backend)
    assert not await beats.beat("w1", 30), "a first beat had nothing to renew"
    assert await beats.beat("w1", 30), "a renewal in time"
    assert await beats.alive(["w1", "w2", "w1"]) == {"w1"}
    assert await beats.alive([]) == set()
    found = await beats.workers()
    assert set(found) == {"w1"} and found["w1"]["pid"] == os.getpid()


async def test_expired_beat_is_dead_and_a_late_renewal_says_so(backend: Backend) -> None:
    beats = heartbeats_on(backend)
    await beats.beat("w1", 0.05)
    await wait_until(lambda: _dead(beats, "w1"), timeout=5, what="heartbeat expiry")
    assert await beats.workers() == {}
    assert not await beats.beat("w1", 30), "renewed after it lapsed"


async def test_forget_ends_the_beat_at_once(backend: Backend) -> None:
    beats = heartbeats_on(backend)
    await beats.beat("w1", 30)
    await beats.beat("w2", 30)
    await beats.forget("w1")
    assert await beats.alive(["w1", "w2"]) == {"w2"}


async def test_beat_renews_the_ttl(redis_backend: Backend) -> None:
    beats = heartbeats_on(redis_backend)
    key = redis_backend.keys.worker_alive("w1")
    await beats.beat("w1", 1)
    await beats.beat("w1", 100)
    assert 95_000 <= await redis_backend.ttl_ms(key) <= 100_000


async def _dead(beats: HeartbeatStore, worker: str) -> bool:
    return worker not in await beats.alive([worker])
