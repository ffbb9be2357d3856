"""The alert tools, in process at ``/mcp`` and over REST (what ``herald mcp`` runs): the same
answers, and the same refusal text as the REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import Client

from herald.mcp import RestBackend, build_mcp
from tests.mcp.conftest import McpServer, data, error_text

pytestmark = pytest.mark.timeout(90)

TOOLS = {
    "alerts_list",
    "alert_create",
    "alert_update",
    "alert_delete",
    "silence_create",
    "silences_list",
    "silence_delete",
    "alert_test",
}
WINDOW = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z"}


@asynccontextmanager
async def over_http(url: str) -> AsyncIterator[Client]:
    async with Client(f"{url}/mcp") as client:
        yield client


@asynccontextmanager
async def over_rest(url: str) -> AsyncIterator[Client]:
    backend = RestBackend(url)
    try:
        async with Client(build_mcp(backend)) as client:
            yield client
    finally:
        await backend.aclose()


Connect = Callable[[str], AbstractAsyncContextManager[Client]]


@pytest.mark.parametrize("connect", [over_http, over_rest], ids=["mcp-endpoint", "rest"])
async def test_rules_silences_and_dry_runs(server: McpServer, connect: Connect) -> None:
    async with connect(server.url) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names >= TOOLS
        rule = data(
            await client.call_tool(
                "alert_create",
                {
                    "id": "mood",
                    "type": "sentiment",
                    "condition": "below",
                    "threshold": -0.3,
                    "window": 300,
                    "holdFor": 60,
                    "minSamples": 5,
                    "keywords": ["tesla"],
                },
            )
        )
        assert rule["id"] == "mood" and rule["for"] == 60 and rule["scope"]["keywords"] == ["tesla"]
        listed = data(await client.call_tool("alerts_list", {}))
        assert listed["count"] == 1 and listed["alerts"][0]["status"]["state"]

        off = data(await client.call_tool("alert_update", {"ruleId": "mood", "enabled": False}))
        assert off["enabled"] is False and off["minSamples"] == 5

        tried = data(await client.call_tool("alert_test", {"ruleId": "mood", **WINDOW}))
        assert tried["ruleId"] == "mood" and isinstance(tried["transitions"], list)
        inline = {"type": "volume", "condition": "above", "threshold": 3, "window": 60}
        tried = data(await client.call_tool("alert_test", {"rule": inline, **WINDOW}))
        assert "evaluated" in tried

        silence = data(
            await client.call_tool(
                "silence_create",
                {"matchers": [{"name": "ruleId", "value": "mood"}], "endsAt": "2099-01-01T00:00Z"},
            )
        )
        assert data(await client.call_tool("silences_list", {}))["count"] == 1
        gone = await client.call_tool("silence_delete", {"silenceId": silence["id"]})
        assert data(gone) == {"success": True, "silenceId": silence["id"]}

        assert data(await client.call_tool("alert_delete", {"ruleId": "mood"}))["success"]
        assert data(await client.call_tool("alerts_list", {}))["count"] == 0


async def rest_detail(url: str, method: str, path: str, body: Any) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        answer = await http.request(method, path, json=body)
    assert 400 <= answer.status_code < 500, answer.text
    return str(answer.json()["detail"])


@pytest.mark.parametrize("connect", [over_http, over_rest], ids=["mcp-endpoint", "rest"])
async def test_refusals_carry_the_rest_apis_text(server: McpServer, connect: Connect) -> None:
    bad = {"type": "sentiment", "condition": "below", "threshold": "low", "window": 60}
    expected = await rest_detail(server.url, "POST", "/api/alerts", bad)
    assert expected.startswith("threshold:")
    async with connect(server.url) as client:
        refused = await client.call_tool("alert_create", bad)
        assert error_text(refused).endswith(f": {expected}")  # the SDK names the tool first
        missing = await client.call_tool("alert_delete", {"ruleId": "nope"})
        assert error_text(missing).endswith(
            await rest_detail(server.url, "DELETE", "/api/alerts/nope", None)
        )
        assert "nothing to update" in error_text(
            await client.call_tool("alert_update", {"ruleId": "nope"})
        )
        assert "not an id" in error_text(
            await client.call_tool("alert_delete", {"ruleId": "../streams"})
        )
        both = await client.call_tool("alert_test", {"ruleId": "x", "rule": bad, **WINDOW})
        assert ": rule: give a rule body" in error_text(both)
        no_matchers = await client.call_tool("silence_create", {"matchers": [], "endsAt": "2h"})
        assert ": matchers:" in error_text(no_matchers)
        assert data(await client.call_tool("alerts_list", {}))["count"] == 0
