"""Alerts end to end: a real ``herald serve`` polling the X stand-in (both processes, the
machine's Redis), a rule made with the CLI, ``alert:firing`` in the log, and a dry run over
that log that agrees with what the live evaluator did."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from tests.auth.auth_support import SECRET, bearer, make_jwt
from tests.cli.conftest import invoker
from tests.conftest import EXTERNAL_REDIS_URL
from tests.processes import herald_process
from tests.servers import free_port
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

API_KEY = "alerts-e2e-admin-key-0123456789abcdef"
COOKIE = "auth_token=a1e475e2e0123456789abcdef0123456789abcd"  # made up


async def log_events(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    answer = await http.get("/api/events/log", params={"since": "0", "limit": 1000})
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


async def test_a_rule_made_with_the_cli_fires_on_a_real_server(
    external_redis: aioredis.Redis, key_prefix: str, tmp_path: Path
) -> None:
    fake_port, port = free_port(), free_port()
    fake_url, url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REDIS_URL": EXTERNAL_REDIS_URL,
        "HERALD_REDIS_PREFIX": key_prefix,
        "HERALD_DATA_DIR": str(tmp_path / "data"),
        "HERALD_X_BASE_URL": fake_url,
        "HERALD_SESSION_COOKIE": COOKIE,
        "HERALD_SECRET_KEY": "alerts-e2e-secret",
        "HERALD_API_KEYS": API_KEY,
        "HERALD_JWT_SECRET": SECRET,
        "HERALD_MIN_INTERVAL": "1",
        "HERALD_POLL_TIMEOUT": "3",
        "HERALD_PIPELINE_SKEW": "0",  # windows close on the next successful poll
    }
    cli = invoker(url, HERALD_TOKEN=API_KEY)
    async with (
        herald_process(["fakex", "--port", str(fake_port)], env, tmp_path / "fakex.log", fake_url),
        herald_process(["serve", "--port", str(port)], env, tmp_path / "serve.log", url),
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}) as http,
        httpx.AsyncClient(base_url=f"{fake_url}/_fakex") as fakex,
    ):
        assert (await fakex.post("/users", json={"username": "acme"})).status_code < 400
        started = await http.post(
            "/api/streams/start", json={"type": "tweet", "username": "acme", "interval": 1}
        )
        assert started.status_code == 201, started.text
        sid = started.json()["id"]

        async def polled() -> bool:
            return int((await http.get(f"/api/streams/{sid}")).json().get("polls", 0)) >= 1

        await wait_until(polled, 60, 0.2, "the baseline poll")

        made = await cli(
            "alerts", "create", "--id", "recall", "--type", "keyword", "--condition",
            "contains", "--threshold", "Recall", "--window", "1", "--channel", "ops",
        )  # fmt: skip
        assert made.exit_code == 0, made.stderr
        assert "created rule recall: keyword contains recall" in made.stdout  # stored lowercased
        refused = await cli("alerts", "create", "--type", "keyword", "--condition", "above",
                            "--threshold", "x")  # fmt: skip
        assert refused.exit_code == 1 and refused.stderr.startswith("error: condition:")

        posted = await fakex.post("/users/acme/tweets", json={"text": "Product RECALL today"})
        hit = str(posted.json()["id"])
        await fakex.post("/users/acme/tweets", json={"text": "a quiet day otherwise"})

        firing: list[dict[str, Any]] = []

        async def fired() -> bool:
            firing[:] = [e for e in await log_events(http) if e["type"] == "alert:firing"]
            return bool(firing)

        await wait_until(fired, 90, 0.25, "alert:firing in the log")
        (event,) = firing
        alert = event["alert"]
        assert alert["ruleId"] == "recall" and alert["samples"] == [hit], event
        assert event["channel"] == "ops" and event["correlationId"] == alert["fingerprint"]

        listed = await cli("alerts", "list")
        assert listed.exit_code == 0 and "recall" in listed.stdout and "keyword" in listed.stdout

        # The dry run over the same log: the same item fires, under the same fingerprint.
        tried = await cli("alerts", "test", "recall", "--replay", "1h", "0s", "--json")
        assert tried.exit_code == 0, tried.stderr
        result = json.loads(tried.stdout)
        replayed = [t for t in result["transitions"] if t["state"] == "firing"]
        assert [t["samples"] for t in replayed] == [[hit]], result
        assert replayed[0]["fingerprint"] == alert["fingerprint"]
        table = await cli("alerts", "test", "recall", "--replay", "1h", "0s")
        assert table.exit_code == 0 and "firing" in table.stdout
        assert "would have fired 1 time(s)" in table.stdout

        # A token limited to the stream reaches no alert route, even to read; the rule stays.
        limited = bearer(make_jwt(streams=[sid]))
        for method, path in (("GET", "/api/alerts"), ("DELETE", "/api/alerts/recall")):
            answer = await http.request(method, path, headers=limited)
            assert answer.status_code == 403 and answer.json()["error"] == "forbidden", path
        assert (await http.get("/api/alerts/recall")).json()["threshold"] == "recall"

    serve_log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Traceback" not in serve_log, serve_log[-4000:]
    assert API_KEY not in serve_log and COOKIE.split("=")[1] not in serve_log
