"""The alerts pipeline on Redis 7: it fires once when the condition held for ``for``, holds
through a stalled input (Error, never a false resolve), survives a restart of the evaluator
in the right state, resolves once, and a replay of the log gives the same transitions."""

from __future__ import annotations

import pytest
from alerts_support import T0, World, duplicates, stamp, tweet, world
from redis.asyncio import Redis

from herald.alerts.host import AlertsHost
from herald.alerts.model import iso
from herald.store.keys import Keys
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(90)

RULE = {
    "id": "busy",
    "type": "volume",
    "condition": "above",
    "threshold": 3,
    "window": 60,
    "for": 60,
    "channel": "ops",
    "priority": 3,
    "scope": {"streams": ["s1"]},
}


class Feed:
    """Items of window ``i`` of stream s1, then the poll that closes the window."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.n = 0

    async def items(self, i: int, count: int) -> None:
        events = [tweet("s1", self.n + j, T0 + i * 60 + j) for j in range(count)]
        self.n += count
        if events:
            await self.w.log.append("s1", events)

    async def window(self, i: int, count: int) -> None:
        await self.items(i, count)
        await self.w.polled("s1", T0 + (i + 1) * 60)


async def evaluated(w: World, i: int) -> bool:
    """The status says window ``i`` was evaluated (the evaluator published after it)."""
    return (await w.status("busy"))["lastEvaluatedAt"] == iso(T0 + (i + 1) * 60)


async def test_fires_once_holds_through_a_stall_and_resolves_once_after_a_restart(
    external_redis: Redis, keys: Keys
) -> None:
    async with world(external_redis, keys) as w:
        await w.add_stream("s1")
        await w.service.create_rule(RULE)
        host: AlertsHost = w.host()
        await host.start()
        try:
            feed = Feed(w)
            await feed.window(0, 5)
            await wait_until(lambda: evaluated(w, 0), 30, what="window 0 evaluated")
            assert (await w.status("busy"))["state"] == "pending"
            assert await w.alerts() == [], "for has not passed yet"
            await feed.window(1, 5)
            await wait_until(lambda: _count(w, 1), 30, what="the firing")
            assert (await w.status("busy"))["state"] == "firing"

            # s1 stalls: polls fail (its watermark freezes) while the items of window 2
            # are not yet seen; a quiet window must not read as "volume fell to zero"
            await w.failing("s1", T0 + 170, 1)
            await wait_until(
                lambda: _state(w, "error"), 30, what="the rule shows the failing input"
            )
            await w.failing("s1", T0 + 175, 2)
            await wait_until(
                lambda: _committed_past_error(w), 30, what="the second error evaluated"
            )
            assert [a["type"] for a in await w.alerts()] == ["alert:firing"]

            # a restart of the evaluator: a new owner restores the committed state
            await host.stop()
            host = w.host()
            await host.start()
            # s1 recovers: the late poll finds window 2's items; window 2 closes full
            await feed.window(2, 5)
            await wait_until(lambda: evaluated(w, 2), 30, what="window 2 evaluated")
            status = await w.status("busy")
            assert status["state"] == "firing" and status["value"] == 5
            await feed.window(3, 1)
            await wait_until(lambda: _count(w, 2), 30, what="the resolve")
            await feed.window(4, 0)
            await wait_until(lambda: evaluated(w, 4), 30, what="window 4 evaluated")
            assert (await w.status("busy"))["state"] == "normal"
        finally:
            await host.stop()

        fired, resolved = await w.alerts()
        assert duplicates([fired, resolved]) == []
        fp = fired["alert"]["fingerprint"]
        assert fired["type"] == "alert:firing" and resolved["type"] == "alert:resolved"
        assert fired["eventId"] == f"alert.firing:{fp}.2@alerts"
        assert resolved["eventId"] == f"alert.resolved:{fp}.3@alerts"
        assert fired["channel"] == "ops" and fired["priority"] == 3
        assert fired["correlationId"] == fp == resolved["alert"]["fingerprint"]
        assert fired["alert"] | {"samples": None} == {
            "ruleId": "busy",
            "fingerprint": fp,
            "state": "firing",
            "value": 5.0,
            "threshold": 3.0,
            "window": 60.0,
            "labels": {"ruleId": "busy", "channel": "ops", "type": "volume"},
            "samples": None,
            "startsAt": stamp(T0 + 120).replace("Z", ".000Z"),
        }
        assert fired["alert"]["samples"] == ["5", "6", "7", "8", "9"]
        assert resolved["alert"]["value"] == 1.0
        assert resolved["alert"]["endsAt"] == iso(T0 + 240)

        # the same rule replayed over the log gives the same notified transitions
        last = (await w.alerts())[-1]["offset"]
        dry = await w.service.test_rule("busy", "0-0", last)
        notified = [t for t in dry["transitions"] if t["notified"]]
        assert [(t["state"], t["at"], t["value"]) for t in notified] == [
            ("firing", iso(T0 + 120), 5.0),
            ("resolved", iso(T0 + 240), 1.0),
        ]
        assert [t["state"] for t in dry["transitions"]][:5] == [
            "pending",
            "firing",
            "resolved",
            "normal",
        ][:5]
        assert await w.alerts() == [fired, resolved], "a dry run appends nothing"


async def _count(w: World, n: int) -> bool:
    return len(await w.alerts()) >= n


async def _state(w: World, state: str) -> bool:
    return (await w.status("busy"))["state"] == state


async def _committed_past_error(w: World) -> bool:
    newest = await w.log.newest_offset()
    return await w.committed() == newest


async def test_herald_serves_alerts_and_runs_the_evaluator_where_a_worker_runs(
    external_redis: Redis, keys: Keys
) -> None:
    from herald.alerts.base import AlertsService
    from herald.service import Herald
    from herald.sources.memory import MemorySource
    from tests.servers import herald_settings

    async with Herald(
        herald_settings(keys.prefix), sources=[MemorySource()], delivery=False
    ) as herald:
        assert isinstance(herald.alerts, AlertsService)
        assert herald.alerts_host is not None and herald.alerts_host.runner.name == "alerts"
        made = await herald.alerts.create_rule(RULE)
        assert made["status"]["state"] == "normal"
        assert "alerts" not in await herald.pipelines.names(), "not one of HERALD_PIPELINES"

        async def owning() -> bool:
            return herald.alerts_host is not None and herald.alerts_host.runner.owning

        await wait_until(owning, 30, what="the evaluator to own its lease")
    settings = herald_settings(keys.prefix, alerts=False)
    async with Herald(settings, sources=[MemorySource()], delivery=False) as herald:
        assert herald.alerts_host is None
        assert [r["id"] for r in await herald.alerts.list_rules()] == ["busy"]
        await herald.alerts.delete_rule("busy")
