"""Schemathesis against a live ``herald serve``: the OpenAPI document and the answers agree.

Every operation of the document (the event streams excepted: they never end, and the
delivery tests cover them), valid and invalid inputs, then stateful sequences that follow
the document's links (start a stream, then act on its id). Fixed seed, bounded time. The
run fails on any 5xx, any status or body the document does not declare (every error body
is declared as ``{error, detail}``), an invalid input accepted or a valid one refused.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from tests.conftest import EXTERNAL_REDIS_URL
from tests.processes import herald_process
from tests.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

API_KEY = "fuzz-admin-key-0123456789abcdef"
SEED = 20261129
MAX_EXAMPLES = 30  # per operation and phase: a few hundred cases in all
MAX_SECONDS = 120
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


# Every check, as `--checks all` would run them, but from a file so a few operations can say
# otherwise. JSON Schema cannot compare two fields or read the clock, so some bodies whose
# every field follows the document are still refused (400, naming the field): an alert
# rule's resolveThreshold on the wrong side of its threshold or a duration past its bound, a
# dry run whose `to` is before its `from`, a silence that ends before it starts or in the
# past. A webhook's URL must resolve to a public address. For those writes a refused valid
# body is not a finding; everything else still is.
# A body over the size limit (413) refuses invalid data as surely as a 400 does.
CHECKS = """
[checks]
enabled = true
negative_data_rejection.expected-statuses = [
  "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx",
]

[[operations]]
include-path-regex = "^/api/(alerts|silences|webhooks)"
include-method-regex = "^(POST|PUT|PATCH)$"
checks.positive_data_acceptance.enabled = false

# X writes are off unless HERALD_ENABLE_WRITES=true (and stay off here: nothing is posted),
# so every valid command is refused with 403 writes_disabled.
[[operations]]
include-path-regex = "^/api/commands$"
include-method-regex = "^POST$"
checks.positive_data_acceptance.enabled = false
"""


# GET /api/events/log holds its answer up to ``wait`` seconds (60 at most) when nothing is
# new: the copy the fuzzer reads leaves ``wait`` out (so it is 0) to keep the run bounded.
def narrowed(document: dict[str, Any]) -> dict[str, Any]:
    operation = document["paths"]["/api/events/log"]["get"]
    operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "wait"]
    return document


async def test_the_api_matches_its_openapi_document(
    external_redis: aioredis.Redis, key_prefix: str, tmp_path: Path
) -> None:
    fake_port, port = free_port(), free_port()
    fake_url, url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REDIS_URL": EXTERNAL_REDIS_URL,
        "HERALD_REDIS_PREFIX": key_prefix,
        "HERALD_DATA_DIR": str(tmp_path / "data"),
        "HERALD_ARCHIVE_URL": f"sqlite:///{tmp_path / 'data' / 'archive.db'}",
        "HERALD_X_BASE_URL": fake_url,
        "HERALD_SESSION_COOKIE": "auth_token=fuzz0123456789abcdef0123456789abcdef0123",
        "HERALD_SECRET_KEY": "fuzz-secret-key",
        "HERALD_API_KEYS": API_KEY,
        "HERALD_POLL_TIMEOUT": "3",
        # endpoints the fuzzer creates are stored, never delivered to
        "HERALD_WEBHOOKS": "false",
    }
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with (
        herald_process(["fakex", "--port", str(fake_port)], env, tmp_path / "fakex.log", fake_url),
        herald_process(
            # With its worker: the streams the fuzzer starts are polled (against the
            # stand-in), so none falls overdue and GET /api/health stays a truthful 200.
            ["serve", "--port", str(port)],
            env,
            tmp_path / "serve.log",
            f"{url}/api/health",
        ),
    ):
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            document = (await client.get("/openapi.json")).json()
        schema = tmp_path / "openapi.json"
        schema.write_text(json.dumps(narrowed(document)))
        config = tmp_path / "schemathesis.toml"
        config.write_text(CHECKS)
        proc = await asyncio.create_subprocess_exec(
            SCHEMATHESIS,
            "--config-file", str(config),
            "run", str(schema),
            "--url", url,
            "--header", f"Authorization: Bearer {API_KEY}",
            "--seed", str(SEED),
            "--max-examples", str(MAX_EXAMPLES),
            "--max-time", str(MAX_SECONDS),
            "--workers", "1",
            "--exclude-path-regex", "/events$",  # server-sent events: endless streams
            "--request-timeout", "10",
            "--rate-limit", "1000/m",  # under herald's 20 writes/s per client
            # The start call's schema has one if/then rule per stream type with its target
            # pattern; the generator may discard many drafts to meet them. That is the
            # schema being exact, not a defect, so this health check is not a finding.
            "--suppress-health-check", "filter_too_much",
            "--no-color",
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await proc.communicate()
    report = out.decode(errors="replace")
    print(report[report.rfind("Test cases:") :])  # how many cases ran (pytest -s shows it)
    summary = report[report.find("=== FAILURES") :] if "=== FAILURES" in report else report
    assert proc.returncode == 0, summary[-6000:]
    assert "Network Error" not in report, summary[-6000:]
    serve_log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Traceback" not in serve_log, serve_log[-4000:]
