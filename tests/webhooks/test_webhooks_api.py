"""``/api/webhooks`` on a real server: validation, safety, secrecy, bounds, presets, resend."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from herald.service import Herald
from herald.sources.memory import MemorySource
from tests.waiting import wait_until
from tests.webhooks.conftest import Rig, append, hook_settings, tweet
from tests.webhooks.receiver import Answer


def refused(response: httpx.Response, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "detail"} and body["detail"].startswith(f"{field}:"), body


async def test_bad_input_is_refused_and_stores_nothing(rig: Rig) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({}, "url"),
        ({"url": "ftp://127.0.0.1/x"}, "url"),
        ({"url": "http://user:pw@127.0.0.1/x"}, "url"),
        ({"url": rig.hook_url, "secret": "nope"}, "secret"),
        ({"url": rig.hook_url, "secret": "whsec_c2hvcnQ="}, "secret"),
        ({"url": rig.hook_url, "selector": {"types": ["tweet:gone"]}}, "selector"),
        ({"url": rig.hook_url, "selector": {"filters": {"mood": "x"}}}, "selector"),
        ({"url": rig.hook_url, "selector": {"since": "0"}}, "selector"),
        ({"url": rig.hook_url, "format": "teams"}, "format"),
        ({"url": rig.hook_url, "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        refused(await rig.api.post("/api/webhooks", json=body), 400, field)
    assert (await rig.api.get("/api/webhooks")).json() == {"webhooks": [], "count": 0}
    refused(await rig.api.post("/api/webhooks", content=b"{not json"), 400, "body")


@pytest.mark.herald_options(webhooks_allow_private=False)
async def test_private_targets_are_refused_without_the_setting(rig: Rig) -> None:
    for url in (
        rig.hook_url,
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
    ):
        response = await rig.api.post("/api/webhooks", json={"url": url})
        refused(response, 400, "url")
        assert "HERALD_WEBHOOKS_ALLOW_PRIVATE" in response.json()["detail"]
    created = await rig.api.post("/api/webhooks", json={"url": "https://93.184.215.14/h"})
    assert created.status_code == 201
    refused(
        await rig.api.patch(f"/api/webhooks/{created.json()['id']}", json={"url": rig.hook_url}),
        400,
        "url",
    )


async def test_send_time_check_refuses_what_became_private(
    rig: Rig, external_redis: aioredis.Redis
) -> None:
    """An endpoint stored while allowed (or resolved differently then) is checked again at
    every send: a process without the setting refuses to send to it."""
    created = (await rig.api.post("/api/webhooks", json={"url": rig.hook_url})).json()
    strict = hook_settings(
        rig.herald.settings.redis_prefix,
        Path(rig.herald.settings.data_dir),
        webhooks_allow_private=False,
    )
    async with Herald(strict, sources=[MemorySource()], worker=False) as other:
        answer = await other.webhooks.test(created["id"])
    assert answer["ok"] is False and answer["attempt"]["error"].startswith("refused:")
    assert rig.receiver.requests == []


async def test_the_secret_is_shown_once_and_never_again(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = await rig.api.post("/api/webhooks", json={"url": rig.hook_url})
    secret = created.json()["secret"]
    hid = created.json()["id"]
    assert created.json()["secretHint"] == f"whsec_…{secret[-4:]}"
    rig.receiver.plan.append(Answer(500))
    await append(rig.herald, [tweet(1)])
    await wait_until(lambda: len(rig.receiver.delivered) >= 1, 15, what="a delivery")
    await rig.api.patch(f"/api/webhooks/{hid}", json={"description": "x"})
    await rig.api.post(f"/api/webhooks/{hid}/test")
    seen = [
        (await rig.api.get("/api/webhooks")).text,
        (await rig.api.get(f"/api/webhooks/{hid}")).text,
        (await rig.api.get(f"/api/webhooks/{hid}/attempts")).text,
        (await rig.api.get("/api/events/log", params={"since": "0"})).text,
        caplog.text,
    ]
    stored = await rig.herald.redis.hget(rig.herald.keys.webhooks, hid)
    key = secret.removeprefix("whsec_")
    for text in [*seen, (stored or b"").decode()]:
        assert key not in text and key[:12] not in text
    rotated = await rig.api.patch(f"/api/webhooks/{hid}", json={"secret": "whsec_" + "QUJD" * 8})
    assert rotated.status_code == 200 and "secret" not in rotated.json()


async def test_a_slow_receiver_times_out_and_a_huge_answer_is_capped(rig: Rig) -> None:
    created = (await rig.api.post("/api/webhooks", json={"url": rig.hook_url})).json()
    rig.receiver.plan.append(Answer(delay=3.0))  # HERALD_WEBHOOKS_TIMEOUT=2 in these tests
    rig.receiver.plan.append(Answer(200, size=5 * 1024 * 1024))
    start = time.monotonic()
    await append(rig.herald, [tweet(1), tweet(2)])
    await wait_until(lambda: len(rig.receiver.delivered) >= 2, 20, what="two deliveries")
    attempts = (await rig.api.get(f"/api/webhooks/{created['id']}/attempts")).json()["attempts"]
    timed_out = [a for a in attempts if a["error"] and "timed out" in a["error"]]
    assert timed_out and timed_out[0]["latencyMs"] < 4000
    capped = [a for a in attempts if a.get("truncated")]
    assert capped and capped[0]["status"] == 200
    assert time.monotonic() - start < 15


async def test_slack_and_discord_presets(rig: Rig) -> None:
    for fmt in ("slack", "discord"):
        made = await rig.api.post(
            "/api/webhooks", json={"url": f"{rig.hook_url}/{fmt}", "format": fmt}
        )
        assert made.status_code == 201
    await append(rig.herald, [tweet(7, text="liftoff at dawn")])
    await wait_until(lambda: len(rig.receiver.delivered) >= 2, 15, what="two deliveries")
    by_path = {}
    for r in rig.receiver.delivered:
        by_path["slack" if "blocks" in r.json else "discord"] = r.json
    slack, discord = by_path["slack"], by_path["discord"]
    assert "liftoff at dawn" in slack["text"] and slack["blocks"][0]["type"] == "section"
    assert "https://x.com/alice/status/7" in slack["blocks"][0]["text"]["text"]
    embed = discord["embeds"][0]
    assert "liftoff at dawn" in discord["content"] and embed["url"].endswith("/status/7")
    assert embed["author"]["name"] == "alice" and len(discord["content"]) <= 2000


async def test_resend_by_event_id_and_offset(rig: Rig) -> None:
    created = (await rig.api.post("/api/webhooks", json={"url": rig.hook_url})).json()
    await append(rig.herald, [tweet(1), tweet(2)])
    await wait_until(lambda: len(rig.receiver.delivered) >= 2, 15, what="two deliveries")
    first = rig.receiver.delivered[0].json
    again = await rig.api.post(
        f"/api/webhooks/{created['id']}/resend", json={"eventId": first["eventId"]}
    )
    assert again.status_code == 200 and again.json()["ok"] is True, again.text
    second = rig.receiver.delivered[1].json
    by_offset = await rig.api.post(
        f"/api/webhooks/{created['id']}/resend", json={"offset": second["offset"]}
    )
    assert by_offset.json()["attempt"]["eventId"] == second["eventId"]
    resent = [orjson.loads(r.body)["eventId"] for r in rig.receiver.delivered[2:]]
    assert resent == [first["eventId"], second["eventId"]]
    refused(await rig.api.post(f"/api/webhooks/{created['id']}/resend", json={}), 400, "eventId")
    missing = await rig.api.post(
        f"/api/webhooks/{created['id']}/resend", json={"eventId": "tweet:0@nowhere"}
    )
    assert missing.status_code == 404
    tested = await rig.api.post(f"/api/webhooks/{created['id']}/test")
    assert tested.json()["ok"] is True
    assert rig.receiver.verified(created["secret"])[-1]["type"] == "webhook:test"


async def test_crud(rig: Rig) -> None:
    made = (await rig.api.post("/api/webhooks", json={"url": rig.hook_url, "id": "ops"})).json()
    assert made["id"] == "ops" and made["enabled"] is True and made["format"] == "standard"
    dup = await rig.api.post("/api/webhooks", json={"url": rig.hook_url, "id": "ops"})
    assert dup.status_code == 409
    changed = await rig.api.patch("/api/webhooks/ops", json={"enabled": False, "format": "slack"})
    assert changed.json()["enabled"] is False and changed.json()["format"] == "slack"
    assert (await rig.api.delete("/api/webhooks/ops")).json() == {
        "success": True,
        "webhookId": "ops",
    }
    assert (await rig.api.get("/api/webhooks/ops")).status_code == 404
    assert (await rig.api.delete("/api/webhooks/ops")).status_code == 404
