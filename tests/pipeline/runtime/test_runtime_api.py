"""A YAML pipeline in a served herald: REST status and steering (admin only for writes), the
CLI, the MCP tools, and a dry-run replay that gives the same windows as the live run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from typer.testing import CliRunner

from herald.cli import app as cli_app
from herald.mcp.backend import LocalBackend
from herald.mcp.pipelines import _Calls
from herald.service import Herald
from herald.sources.memory import MemorySource
from herald.store.keys import Keys
from tests.auth.auth_support import ADMIN, API_KEY, SECRET, bearer, make_jwt
from tests.pipeline.runtime.support import fill, outputs
from tests.servers import herald_settings, serve_herald
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(90)

YAML = """\
pipelines:
  - name: busy
    types: [tweet:new]
    watermark: events
    skew: 0
    start: earliest
    steps:
      - filter: {keywords: [hello]}
      - window: {tumbling: 10s}
      - aggregate: count
      - threshold: {above: 50}
      - map: {count: value, from: start}
      - output: busy-window
"""


async def test_rest_cli_mcp_and_replay(external_redis: Redis, keys: Keys, tmp_path: Path) -> None:
    path = tmp_path / "pipelines.yaml"
    path.write_text(YAML)
    await fill(external_redis, keys, 400)  # 40 s of tweets, 100 per 10 s window
    settings = herald_settings(
        keys.prefix, api_keys=[API_KEY], jwt_secret=SECRET, pipelines=str(path)
    )
    herald = Herald(settings, sources=[MemorySource()], delivery=False)
    async with herald, serve_herald(herald) as url, httpx.AsyncClient(base_url=url) as client:

        async def live() -> list[dict[str, Any]]:
            return await outputs(external_redis, keys, "busy")

        await wait_until(lambda: _count(live, 3), 30, what="three closed windows")
        windows = await live()
        assert [w["data"] for w in windows] == [
            {"count": 100, "from": 1_700_000_000.0 + 10 * i} for i in range(3)
        ]
        assert all(w["output"] == "busy-window" for w in windows)

        answer = (await client.get("/api/pipelines", headers=ADMIN)).json()
        assert [p["name"] for p in answer["pipelines"]] == ["busy"]
        status = (await client.get("/api/pipelines/busy", headers=ADMIN)).json()
        assert status["counters"]["in"] == 400 and status["owner"]
        assert status["stateSize"] > 0 and status["deadLetters"] == 0
        assert status["declaration"]["source"] == str(path)

        # a restricted token may neither read nor steer; an unrestricted non-admin one reads
        only_some = bearer(make_jwt(streams=["s0"]))
        everyone = bearer(make_jwt())
        assert (await client.get("/api/pipelines/busy", headers=only_some)).status_code == 403
        for action in ("pause", "resume", "replay"):
            for headers in (only_some, everyone):
                refused = await client.post(
                    f"/api/pipelines/busy/{action}", headers=headers, json={}
                )
                assert refused.status_code == 403, action
                assert set(refused.json()) >= {"error", "detail"}
        assert (await client.get("/api/pipelines/busy", headers=everyone)).status_code == 200

        paused = await client.post("/api/pipelines/busy/pause", headers=ADMIN)
        assert paused.json()["status"] == "paused"
        resumed = await client.post("/api/pipelines/busy/resume", headers=ADMIN)
        assert resumed.json()["status"] == "running"

        dry = await client.post(
            "/api/pipelines/busy/replay",
            headers=ADMIN,
            json={"from": "0-0", "to": "9999999999999-0"},
        )
        assert dry.status_code == 200, dry.text
        replayed = {o["key"]: o["data"] for o in dry.json()["outputs"]}
        assert len(replayed) == 4  # the live run's three, and the last one the end closes
        for window in windows:
            key = window["eventId"].removeprefix("pipeline.output:").removesuffix("@pipeline:busy")
            assert replayed[key] == window["data"]
        bad = await client.post(
            "/api/pipelines/busy/replay", headers=ADMIN, json={"from": "yesterday-ish"}
        )
        assert bad.status_code == 400 and "from must be" in bad.json()["detail"]
        missing = await client.get("/api/pipelines/nope", headers=ADMIN)
        assert missing.status_code == 404

        # the CLI (blocking, so off the loop that serves it) and the MCP tools
        run = await asyncio.to_thread(
            CliRunner().invoke, cli_app, ["pipelines", "list", "--url", url, "--token", API_KEY]
        )
        assert run.exit_code == 0, run.output
        assert "busy" in run.output and "running" in run.output
        run = await asyncio.to_thread(
            CliRunner().invoke,
            cli_app,
            ["pipelines", "status", "busy", "--url", url, "--token", API_KEY],
        )
        assert run.exit_code == 0, run.output
        assert "count in" in run.output and "400" in run.output
        run = await asyncio.to_thread(
            CliRunner().invoke,
            cli_app,
            ["pipelines", "pause", "nope", "--url", url, "--token", API_KEY],
        )
        assert run.exit_code == 1 and "no pipeline named 'nope'" in run.output
        run = await asyncio.to_thread(
            CliRunner().invoke,
            cli_app,
            ["replay", "0-0", "9999999999999-0", "--url", url, "--token", API_KEY, "--json"],
        )
        assert run.exit_code == 0, run.output
        assert run.output.count('"stream:tweet:new"') == 400
        calls = _Calls(LocalBackend(herald))
        assert (await calls.call("GET", "/api/pipelines"))["count"] == 1
        assert (await calls.call("POST", "/api/pipelines/busy/pause"))["paused"] is True


async def _count(read: Any, want: int) -> bool:
    return len(await read()) >= want
