"""Giving up on a stuck event: only the held one, only while disabled, never a neighbour."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli.conftest import invoker
from tests.waiting import wait_until
from tests.webhooks.conftest import Rig, append, tweet
from tests.webhooks.receiver import Answer

pytestmark = pytest.mark.timeout(90)


async def _create(rig: Rig) -> str:
    made = await rig.api.post("/api/webhooks", json={"url": rig.hook_url})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def _show(rig: Rig, hook: str) -> dict[str, Any]:
    got: dict[str, Any] = (await rig.api.get(f"/api/webhooks/{hook}")).json()
    return got


async def _disabled(rig: Rig, hook: str) -> None:
    async def off() -> bool:
        return (await _show(rig, hook))["enabled"] is False

    await wait_until(off, 20, what="the endpoint disabled")


def _tweets(rig: Rig) -> list[str]:
    return [r.json["tweet"]["id"] for r in rig.receiver.delivered if "tweet" in r.json]


async def _offsets(rig: Rig, count: int) -> list[dict[str, Any]]:
    """The newest ``count`` tweet events of the log, oldest first (offset and eventId)."""
    bodies = await rig.herald.log.read(None, 1000)
    return [b for b in bodies if b["type"] == "stream:tweet:new"][-count:]


async def test_a_schedule_used_up_then_skip_the_held_event_and_resume(rig: Rig) -> None:
    hook = await _create(rig)
    rig.receiver.default = Answer(500)
    await append(rig.herald, [tweet(1), tweet(2), tweet(3)])
    await _disabled(rig, hook)
    held, second, _third = await _offsets(rig, 3)
    status = (await _show(rig, hook))["status"]
    assert status["failing"]["offset"] == held["offset"]
    committed = status["offset"]

    # the wrong event (a neighbour, or a made-up offset) is refused and nothing moves
    for body in ({"offset": second["offset"]}, {"eventId": second["eventId"]}, {"offset": "1-0"}):
        wrong = await rig.api.post(f"/api/webhooks/{hook}/skip", json=body)
        assert wrong.status_code == 409 and wrong.json()["error"] == "not_held", wrong.text
        assert held["offset"] in wrong.json()["detail"]
    assert (await _show(rig, hook))["status"]["offset"] == committed

    skipped = await rig.api.post(f"/api/webhooks/{hook}/skip", json={"eventId": held["eventId"]})
    assert skipped.status_code == 200, skipped.text
    answer = skipped.json()
    assert answer["skipped"] == {"eventId": held["eventId"], "offset": held["offset"]}
    assert answer["attempt"]["skipped"] is True and answer["attempt"]["manual"] is True
    status = (await _show(rig, hook))["status"]
    assert status["offset"] == held["offset"] and status["failing"] is None

    # said twice: nothing is held any more, and nothing more is skipped
    again = await rig.api.post(f"/api/webhooks/{hook}/skip", json={"offset": held["offset"]})
    assert again.status_code == 409 and again.json()["error"] == "nothing_held"

    rig.receiver.default = Answer(200)
    enabled = await rig.api.patch(f"/api/webhooks/{hook}", json={"enabled": True})
    assert enabled.status_code == 200
    await wait_until(lambda: _tweets(rig) == ["2", "3"], 15, what="the events after it")
    attempts = (await rig.api.get(f"/api/webhooks/{hook}/attempts")).json()["attempts"]
    marks = [a for a in attempts if a.get("skipped")]
    assert [a["eventId"] for a in marks] == [held["eventId"]]
    assert "tweet:1@s1" not in {r.headers["webhook-id"] for r in rig.receiver.delivered}


async def test_a_410_on_the_first_try_is_held_too(rig: Rig) -> None:
    """No retry is stored after a 410: the held event is the newest attempt's."""
    hook = await _create(rig)
    rig.receiver.plan.append(Answer(410))
    await append(rig.herald, [tweet(1), tweet(2)])
    await _disabled(rig, hook)
    held, _next = await _offsets(rig, 2)
    assert (await _show(rig, hook))["status"]["failing"] is None
    invoke = invoker(rig.url)
    said = await invoke("webhooks", "skip", hook, held["offset"])
    assert said.exit_code == 0, (said.stdout, said.stderr)
    assert f"skipped {held['eventId']}" in said.stdout and "--enable" in said.stdout
    enabled = await rig.api.patch(f"/api/webhooks/{hook}", json={"enabled": True})
    assert enabled.status_code == 200
    await wait_until(lambda: _tweets(rig) == ["2"], 15, what="the event after it")


async def test_refusals_leave_the_endpoint_as_it_was(rig: Rig) -> None:
    hook = await _create(rig)
    await append(rig.herald, [tweet(1)])
    await wait_until(lambda: _tweets(rig) == ["1"], 15, what="a delivery")
    (event,) = await _offsets(rig, 1)
    path = f"/api/webhooks/{hook}/skip"

    live = await rig.api.post(path, json={"offset": event["offset"]})
    assert live.status_code == 409 and live.json()["error"] == "webhook_enabled"
    assert "disable it first" in live.json()["detail"]

    assert (await rig.api.patch(f"/api/webhooks/{hook}", json={"enabled": False})).is_success
    before = await _show(rig, hook)
    nothing = await rig.api.post(path, json={"offset": event["offset"]})
    assert nothing.status_code == 409 and nothing.json()["error"] == "nothing_held"
    for body in ({}, {"offset": "x"}, {"offset": "1-0", "eventId": "e"}, {"eventId": ""}):
        bad = await rig.api.post(path, json=body)
        assert bad.status_code == 400 and set(bad.json()) >= {"error", "detail"}, bad.text
    bad = await rig.api.post(path, json={"offset": "1-0", "other": 1})
    assert bad.status_code == 400
    missing = await rig.api.post("/api/webhooks/nope/skip", json={"offset": "1-0"})
    assert missing.status_code == 404
    assert await _show(rig, hook) == before

    cli = await invoker(rig.url)("webhooks", "skip", hook, event["offset"])
    assert cli.exit_code == 1 and "is not held on any event" in cli.stderr
