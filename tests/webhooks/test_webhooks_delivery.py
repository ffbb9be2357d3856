"""Every event once, in order, signed, to a real loopback receiver; retries; 410; selectors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from herald.service import Herald
from herald.sources.memory import MemorySource
from tests.waiting import wait_until
from tests.webhooks.conftest import Rig, append, hook_settings, tweet
from tests.webhooks.receiver import Answer


async def make(rig: Rig, **body: object) -> dict[str, object]:
    created = await rig.api.post("/api/webhooks", json={"url": rig.hook_url, **body})
    assert created.status_code == 201, created.text
    answer: dict[str, object] = created.json()
    return answer


async def test_every_event_once_in_order_verified(rig: Rig) -> None:
    hook = await make(rig)
    secret = str(hook["secret"])
    assert secret.startswith("whsec_")
    await append(rig.herald, [tweet(i) for i in range(50)])
    await wait_until(lambda: len(rig.receiver.delivered) >= 50, 15, what="50 deliveries")
    bodies = rig.receiver.verified(secret)
    assert [b["tweet"]["id"] for b in bodies] == [str(i) for i in range(50)]
    assert len({b["eventId"] for b in bodies}) == 50
    # the body is the exact event JSON, offset included, as other transports send it
    first = rig.receiver.delivered[0]
    assert (
        orjson.loads(first.body)["offset"] and first.headers["content-type"] == "application/json"
    )
    status = (await rig.api.get(f"/api/webhooks/{hook['id']}")).json()["status"]
    assert status["delivered"] == 50 and status["offset"] == bodies[-1]["offset"]
    metrics = (await rig.api.get("/metrics")).text
    assert 'herald_webhook_attempts_total{outcome="delivered"}' in metrics


async def test_outage_retries_on_schedule_then_in_order(rig: Rig) -> None:
    hook = await make(rig)
    rig.receiver.plan.extend(Answer(503) for _ in range(3))
    await append(rig.herald, [tweet(i) for i in range(5)])
    await wait_until(lambda: len(rig.receiver.delivered) >= 5, 15, what="5 deliveries")
    got = rig.receiver.verified(str(hook["secret"]))
    assert [b["tweet"]["id"] for b in got] == ["0", "1", "2", "3", "4"]
    tries = [r.headers["webhook-id"] for r in rig.receiver.requests]
    assert tries[:4] == [got[0]["eventId"]] * 4  # the head event retried, nothing overtook it
    attempts = (await rig.api.get(f"/api/webhooks/{hook['id']}/attempts")).json()["attempts"]
    failed = [a for a in attempts if a["status"] == 503]
    assert [a["attempt"] for a in reversed(failed)] == [1, 2, 3]
    assert all(a["latencyMs"] >= 0 and a["error"] == "HTTP 503" for a in failed)


async def test_retry_after_is_honoured(rig: Rig) -> None:
    await make(rig)
    rig.receiver.plan.append(Answer(429, {"retry-after": "1"}))
    start = time.monotonic()
    await append(rig.herald, [tweet(1)])
    await wait_until(lambda: len(rig.receiver.delivered) >= 1, 15, what="a delivery")
    assert time.monotonic() - start >= 1.0  # the schedule alone would retry after 0.2 s


async def test_410_disables_with_a_health_event_and_resumes_on_enable(rig: Rig) -> None:
    hook = await make(rig)
    watcher = await make(rig, selector={"types": ["webhook:health"]}, url=rig.hook_url + "/w")
    rig.receiver.plan.append(Answer(410))
    await append(rig.herald, [tweet(1), tweet(2)])

    async def disabled() -> bool:
        got = (await rig.api.get(f"/api/webhooks/{hook['id']}")).json()
        return got["enabled"] is False

    await wait_until(disabled, 15, what="disabled after 410")
    shown = (await rig.api.get(f"/api/webhooks/{hook['id']}")).json()
    assert "410" in shown["disabledReason"] and shown["status"]["health"] == "disabled"
    await wait_until(
        lambda: any(r.body and b"webhook:health" in r.body for r in rig.receiver.delivered),
        15,
        what="health event",
    )
    health = [r.json for r in rig.receiver.delivered if r.json.get("type") == "webhook:health"]
    assert health[0]["webhookId"] == hook["id"] and health[0]["state"] == "disabled"
    assert watcher["id"] != hook["id"]
    # nothing skipped: enabling again delivers tweet 1 (the one that got the 410), then 2
    enabled = await rig.api.patch(f"/api/webhooks/{hook['id']}", json={"enabled": True})
    assert enabled.status_code == 200 and "disabledReason" not in enabled.json()
    tweets = lambda: [r.json["tweet"]["id"] for r in rig.receiver.delivered if "tweet" in r.json]  # noqa: E731
    await wait_until(lambda: tweets() == ["1", "2"], 15, what="resumed in order")


async def test_selector_filters(rig: Rig) -> None:
    await make(rig, selector={"streamIds": ["s2"], "filters": {"keywords": ["rocket"]}})
    await append(
        rig.herald,
        [tweet(1, "s1", "rocket"), tweet(2, "s2", "boat"), tweet(3, "s2", "rocket launch")],
    )
    await wait_until(lambda: len(rig.receiver.delivered) >= 1, 15, what="a delivery")
    await append(rig.herald, [tweet(4, "s2", "rocket again")])
    await wait_until(lambda: len(rig.receiver.delivered) >= 2, 15, what="two deliveries")
    assert [r.json["tweet"]["id"] for r in rig.receiver.delivered] == ["3", "4"]


async def test_two_processes_one_owner_and_a_takeover(
    rig: Rig, key_prefix: str, tmp_path: Path
) -> None:
    """A second herald on the same Redis stands by; when the owner stops it takes over."""
    hook = await make(rig)
    other = Herald(hook_settings(key_prefix, tmp_path), sources=[MemorySource()], delivery=False)
    await other.start()
    try:
        await append(rig.herald, [tweet(i) for i in range(100)])
        await wait_until(lambda: len(rig.receiver.delivered) >= 100, 20, what="100 deliveries")
        owners = {rig.herald.webhook_host, other.webhook_host}
        assert None not in owners
        ids = [r.headers["webhook-id"] for r in rig.receiver.delivered]
        assert len(ids) == len(set(ids)) == 100  # one owner: nothing sent twice
        await rig.herald.stop()  # the first process goes away (its lease with it)
        await append(other, [tweet(i) for i in range(100, 150)])
        await wait_until(lambda: len(rig.receiver.delivered) >= 150, 20, what="taken over")
        got = rig.receiver.verified(str(hook["secret"]))
        assert [b["tweet"]["id"] for b in got] == [str(i) for i in range(150)]
    finally:
        await other.stop()


async def test_a_selector_change_applies_to_what_follows(rig: Rig) -> None:
    hook = await make(rig, selector={"streamIds": ["a"]})
    await append(rig.herald, [tweet(1, "a"), tweet(2, "b")])
    await wait_until(lambda: len(rig.receiver.delivered) >= 1, 15, what="a delivery")
    changed = await rig.api.patch(
        f"/api/webhooks/{hook['id']}", json={"selector": {"streamIds": ["b"]}}
    )
    assert changed.status_code == 200 and changed.json()["selector"] == {"streamIds": ["b"]}
    host = rig.herald.webhook_host
    assert host is not None

    def restarted() -> bool:  # an edit takes effect when the host next reloads (≤ 0.5 s)
        running = host.consumers.get(str(hook["id"]))
        return running is not None and running[1].endpoint["selector"] == {"streamIds": ["b"]}

    await wait_until(restarted, 10, what="the consumer restarted with the new selector")
    await append(rig.herald, [tweet(3, "a"), tweet(4, "b")])
    await wait_until(lambda: len(rig.receiver.delivered) >= 2, 15, what="two deliveries")
    assert [r.json["tweet"]["id"] for r in rig.receiver.delivered] == ["1", "4"]


@pytest.mark.herald_options(log_maxlen=100)
async def test_a_gap_trimmed_before_delivery_is_said_once_then_delivery_goes_on(
    rig: Rig,
) -> None:
    hook = await make(rig)
    hook_id = str(hook["id"])
    off = await rig.api.patch(f"/api/webhooks/{hook_id}", json={"enabled": False})
    assert off.status_code == 200, off.text
    start = (await rig.api.get(f"/api/webhooks/{hook_id}")).json()["status"]["offset"]
    await append(rig.herald, [tweet(i) for i in range(1000)])
    held = [e.body["tweet"]["id"] for e in await rig.herald.log.after(None, 2000)]
    assert held and held[0] != "0", "the log was not trimmed"
    on = await rig.api.patch(f"/api/webhooks/{hook_id}", json={"enabled": True})
    assert on.status_code == 200, on.text
    await wait_until(lambda: len(rig.receiver.delivered) >= len(held), 30, what="the rest")

    async def health() -> list[dict[str, object]]:
        found = await rig.herald.log.after(None, 5000)
        return [e.body for e in found if e.type == "webhook:health"]

    await wait_until(lambda: _states(health, ["gap", "ok"]), 15, what="gap then ok")
    notices = await health()
    gap = notices[0]
    assert gap["webhookId"] == hook_id and gap["gapAfter"] == start
    assert gap["oldestHeld"] <= rig.receiver.verified(str(hook["secret"]))[0]["offset"]
    assert "trimmed" in str(gap["reason"]) and "HERALD_LOG_MAXLEN" in str(gap["reason"])
    # every event still held, once and in order, after the notice
    tweets = [b["tweet"]["id"] for b in rig.receiver.verified(str(hook["secret"])) if "tweet" in b]
    assert tweets == [i for i in held if i in tweets] and set(held) <= set(tweets)
    assert len(tweets) == len(set(tweets))
    status = (await rig.api.get(f"/api/webhooks/{hook_id}")).json()["status"]
    assert status["health"] == "ok"
    # disabling and enabling again finds no gap: nothing more is said
    await rig.api.patch(f"/api/webhooks/{hook_id}", json={"enabled": False})
    await rig.api.patch(f"/api/webhooks/{hook_id}", json={"enabled": True})
    await append(rig.herald, [tweet(5000)])
    await wait_until(
        lambda: any(b.get("tweet", {}).get("id") == "5000" for b in _bodies(rig)),
        15,
        what="a later event",
    )
    assert [n["state"] for n in await health()] == ["gap", "ok"]


def _bodies(rig: Rig) -> list[dict[str, Any]]:
    return [r.json for r in rig.receiver.delivered]


async def _states(read: Any, expected: list[str]) -> bool:
    return [n["state"] for n in await read()] == expected
