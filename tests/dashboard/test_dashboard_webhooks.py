"""The webhooks panel: add an endpoint (its secret shown once), watch deliveries and the last
attempts, disable and enable it, and a refusal shown on the form."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Page, expect

from herald.events import Event, EventType
from tests.dashboard.dash_support import DashServer
from tests.servers import serve_asgi
from tests.webhooks.receiver import Answer, Receiver

pytestmark = [
    pytest.mark.browser,
    pytest.mark.herald(
        webhooks_allow_private=True, secret_key="dash-test", webhooks_schedule="0,0.2"
    ),
]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    got = Receiver()
    async with serve_asgi(got) as url:
        yield got, url


def tweet(n: int) -> Event:
    return Event(
        EventType.TWEET_NEW,
        "s1",
        "alice",
        str(n),
        {"tweet": {"id": str(n), "text": f"t{n}"}},
        platform="x",
    )


async def test_add_watch_disable_enable(
    page: Page, dash: DashServer, api: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    got, base = receiver
    panel = page.locator("#webhooks")
    await expect(page.locator("#webhooks-empty")).to_be_visible()

    await page.locator("#w-url").fill("ftp://nowhere/x")
    await panel.get_by_role("button", name="Add").click()
    await expect(page.locator("#e-webhook")).to_contain_text(
        "url: the scheme must be http or https"
    )

    await page.locator("#w-url").fill(f"{base}/hook")
    await page.locator("#w-types").fill("tweet:new")
    await panel.get_by_role("button", name="Add").click()
    secret = page.locator("#webhook-secret")
    await expect(secret).to_contain_text("whsec_")
    shown = await secret.text_content()
    item = panel.locator("li.webhook")
    await expect(item).to_have_count(1)
    await expect(item.locator(".badge")).to_have_text("ok")
    await page.locator("#webhook-secret-done").click()
    await expect(page.locator("#webhook-secret-box")).to_be_hidden()

    got.plan.append(Answer(503))
    assert dash.herald is not None
    await dash.herald.log.append("s1", [tweet(1), tweet(2)])
    await page.evaluate("window.heraldDashboard.webhooks.load()")
    await expect(item).to_contain_text("2 delivered", timeout=15_000)
    attempts = item.locator(".attempts li")
    await expect(attempts.first).to_contain_text("200")
    await expect(item.locator(".attempts li.bad")).to_contain_text("503")
    assert shown and shown.strip() not in await page.content()  # gone from the page

    await item.get_by_role("button", name="Disable").click()
    await expect(item.locator(".badge")).to_have_text("disabled")
    hook_id = await item.get_attribute("data-webhook")
    assert (await api.get(f"/api/webhooks/{hook_id}")).json()["enabled"] is False
    await item.get_by_role("button", name="Enable").click()
    await expect(item.locator(".badge")).to_have_text("ok")
    assert (await api.get(f"/api/webhooks/{hook_id}")).json()["enabled"] is True
