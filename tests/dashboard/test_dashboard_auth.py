"""With API keys on, the page asks for a key once and keeps it for the tab's session."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.dashboard.dash_support import DashServer

pytestmark = [pytest.mark.browser, pytest.mark.herald(api_keys=["s3cret-key"])]


async def test_asks_for_the_key_once_then_works(page: Page, dash: DashServer) -> None:
    async with httpx.AsyncClient(base_url=dash.url, timeout=10) as api:
        headers = {"Authorization": "Bearer s3cret-key"}
        started = await api.post(
            "/api/streams/start", json={"type": "tweet", "username": "olivia"}, headers=headers
        )
        assert started.status_code == 201

    dialog = page.get_by_role("dialog", name="API key required")
    await expect(dialog).to_be_visible()
    key = dialog.get_by_label("API key")
    await expect(key).to_be_focused()

    await key.fill("wrong")
    await key.press("Enter")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("#auth-error")).to_have_text("Key refused: invalid token")

    await key.fill("s3cret-key")
    await dialog.get_by_role("button", name="Continue").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#streams-body")).to_contain_text("@olivia")
    await expect(page.locator("#connection")).to_have_text("live")
    stored = await page.evaluate("sessionStorage.getItem('herald.token')")
    assert stored == "s3cret-key"

    # A reload in the same tab does not ask again.
    await page.reload()
    await expect(page.locator("#connection")).to_have_text("live")
    await expect(page.locator("#streams-body")).to_contain_text("@olivia")
    await expect(dialog).to_be_hidden()
