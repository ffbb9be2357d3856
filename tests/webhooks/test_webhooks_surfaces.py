"""``herald webhooks ...`` and the webhook MCP tools against a real server and receiver."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from mcp import Client

from herald.mcp import RestBackend, build_mcp
from tests.cli.conftest import invoker
from tests.mcp.conftest import data, error_text
from tests.waiting import wait_until
from tests.webhooks.conftest import Rig, append, tweet

pytestmark = pytest.mark.timeout(90)
TOOLS = {
    "webhooks_list",
    "webhook_create",
    "webhook_update",
    "webhook_delete",
    "webhook_attempts",
    "webhook_resend",
    "webhook_skip",
    "webhook_test",
}


async def test_cli_add_list_update_attempts_resend_test_remove(rig: Rig) -> None:
    invoke = invoker(rig.url)
    added = await invoke(
        "webhooks", "add", rig.hook_url, "--id", "ops", "--selector", '{"types": ["tweet:new"]}'
    )
    assert added.exit_code == 0, (added.stdout, added.stderr)
    assert "added webhook ops" in added.stdout and "whsec_" in added.stdout
    listed = await invoke("webhooks", "list")
    assert listed.exit_code == 0 and "ops" in listed.stdout and "whsec_" not in listed.stdout
    bad = await invoke("webhooks", "add", "ftp://x/y")
    assert bad.exit_code == 1 and "url: the scheme must be http or https" in bad.stderr
    badsel = await invoke("webhooks", "add", rig.hook_url, "--selector", "{")
    assert badsel.exit_code == 2 and "--selector" in badsel.stderr
    await append(rig.herald, [tweet(1)])
    await wait_until(lambda: len(rig.receiver.delivered) >= 1, 15, what="a delivery")
    eid = rig.receiver.delivered[0].json["eventId"]
    shown = await invoke("webhooks", "attempts", "ops", "--json")
    assert json.loads(shown.stdout)["attempts"][0]["eventId"] == eid
    resent = await invoke("webhooks", "resend", "ops", eid)
    assert resent.exit_code == 0 and "delivered" in resent.stdout
    tested = await invoke("webhooks", "test", "ops")
    assert tested.exit_code == 0, tested.stdout
    off = await invoke("webhooks", "update", "ops", "--disable", "--json")
    assert json.loads(off.stdout)["enabled"] is False
    assert (await invoke("webhooks", "update", "ops")).exit_code == 2
    removed = await invoke("webhooks", "remove", "ops")
    assert removed.exit_code == 0
    gone = await invoke("webhooks", "show", "ops")
    assert gone.exit_code == 1 and "no webhook 'ops'" in gone.stderr


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
async def test_mcp_tools(rig: Rig, connect: Connect) -> None:
    async with connect(rig.url) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names >= TOOLS
        made = data(await client.call_tool("webhook_create", {"url": rig.hook_url}))
        assert made["secret"].startswith("whsec_")
        listed = data(await client.call_tool("webhooks_list", {}))
        assert listed["count"] == 1 and "secret" not in listed["webhooks"][0]
        bad = await client.call_tool("webhook_create", {"url": "gopher://x"})
        assert "url: the scheme must be http or https" in error_text(bad)
        tested = data(await client.call_tool("webhook_test", {"webhook_id": made["id"]}))
        assert tested["ok"] is True
        await append(rig.herald, [tweet(1)])
        await wait_until(lambda: len(rig.receiver.delivered) >= 2, 15, what="a delivery")
        eid = rig.receiver.delivered[-1].json["eventId"]
        again = data(
            await client.call_tool("webhook_resend", {"webhook_id": made["id"], "event_id": eid})
        )
        assert again["ok"] is True
        tries = data(await client.call_tool("webhook_attempts", {"webhook_id": made["id"]}))
        assert tries["count"] >= 3
        off = data(
            await client.call_tool("webhook_update", {"webhook_id": made["id"], "enabled": False})
        )
        assert off["enabled"] is False
        held = await client.call_tool("webhook_skip", {"webhook_id": made["id"], "offset": "1-0"})
        assert "is not held on any event" in error_text(held)
        data(await client.call_tool("webhook_delete", {"webhook_id": made["id"]}))
        assert data(await client.call_tool("webhooks_list", {}))["count"] == 0
