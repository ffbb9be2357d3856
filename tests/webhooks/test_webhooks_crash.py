"""A real ``herald serve`` killed with SIGKILL mid-stream, then stopped gracefully, then
started again: the receiver still gets every event, in order; a duplicate only in the
documented window (the event in flight at the kill), and then with the same webhook-id."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from standardwebhooks import Webhook

from herald.events import Event
from herald.store.eventlog import EventLog
from herald.store.keys import Keys
from tests.conftest import EXTERNAL_REDIS_URL
from tests.processes import herald_process
from tests.servers import free_port
from tests.waiting import wait_until
from tests.webhooks.conftest import tweet
from tests.webhooks.receiver import Answer, Receiver

TOTAL = 300


def env_for(key_prefix: str, data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": EXTERNAL_REDIS_URL,
        "HERALD_REDIS_PREFIX": key_prefix,
        "HERALD_DATA_DIR": str(data),
        "HERALD_SECRET_KEY": "crash-test-key",
        "HERALD_WEBHOOKS_ALLOW_PRIVATE": "true",
        "HERALD_WEBHOOKS_SCHEDULE": "0,0.2,0.2,0.2,0.2,0.2,0.2,0.2",
        "HERALD_WEBHOOKS_JITTER": "0",
        "HERALD_WEBHOOKS_LEASE_TTL": "1",
    }


async def test_kill_9_and_restart_lose_nothing(
    external_redis: aioredis.Redis,
    key_prefix: str,
    tmp_path: Path,
    receiver: tuple[Receiver, str],
) -> None:
    got, hook_url = receiver
    got.default = Answer(delay=0.01)  # a receiver slow enough to be caught mid-stream
    env = env_for(key_prefix, tmp_path / "data")
    log = EventLog(external_redis, Keys(key_prefix))
    events: list[Event] = [tweet(i) for i in range(TOTAL)]

    def run(n: int) -> tuple[str, object]:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = ["serve", "--port", str(port)]
        return url, herald_process(args, env, tmp_path / f"serve{n}.log", f"{url}/api/health")

    url, first = run(1)
    async with first as proc:
        async with httpx.AsyncClient(base_url=url, timeout=10) as api:
            created = await api.post("/api/webhooks", json={"url": hook_url + "/h"})
            assert created.status_code == 201, created.text
            secret = created.json()["secret"]
        await log.append("s1", events[:200])
        await wait_until(lambda: len(got.delivered) >= 40, 20, what="delivery under way")
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    killed_at = len(got.requests)
    assert killed_at < 200, "the kill came after everything was delivered: nothing tested"

    url, second = run(2)
    async with second as proc:
        await log.append("s1", events[200:])
        await wait_until(lambda: len(got.delivered) >= killed_at + 30, 20, what="resumed")
        proc.send_signal(signal.SIGINT)  # a graceful stop mid-stream
        await asyncio.wait_for(proc.wait(), 20)

    url, third = run(3)
    async with third:
        expected = [e.event_id for e in events]

        def unique() -> list[str]:
            return list(dict.fromkeys(r.headers["webhook-id"] for r in got.delivered))

        await wait_until(lambda: unique() == expected, 30, what="every event delivered")

    hook = Webhook(secret)
    ids = [hook.verify(r.body, r.headers)["eventId"] for r in got.delivered]
    assert list(dict.fromkeys(ids)) == expected  # in order, nothing lost
    duplicates = len(ids) - len(set(ids))
    assert duplicates <= 2, f"{duplicates} duplicates: more than one per crash or stop"
    # a duplicate is a resend of the event at the head when the process went away
    for i in range(1, len(ids)):
        if ids[i] in ids[:i]:
            assert ids[i] == ids[i - 1], "a duplicate that is not the event just before"
    key = secret.removeprefix("whsec_")
    for n in (1, 2, 3):  # the processes' own output never shows the secret
        assert key not in (tmp_path / f"serve{n}.log").read_text()
