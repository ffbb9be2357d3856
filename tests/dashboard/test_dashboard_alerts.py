"""The alerts panel: firing, pending and resolved alerts, silences, browser notifications."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from herald.events import EventType
from tests.dashboard.dash_support import DashServer, OpenPage, wait_polled
from tests.dashboard.events_support import ago, alert, append

pytestmark = pytest.mark.browser

FIRING, RESOLVED = EventType.ALERT_FIRING, EventType.ALERT_RESOLVED

# Records every notification the page shows, and still makes the real one.
NOTIFICATION_SPY = """
window.__notes = [];
const Real = window.Notification;
if (Real) {
  class Spy extends Real {
    constructor(title, options = {}) {
      super(title, options);
      window.__notes.push({ title, body: options.body, tag: options.tag });
    }
  }
  Object.defineProperty(Spy, "permission", { get: () => Real.permission });
  Spy.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Spy;
}
"""


async def alerts_route(api: httpx.AsyncClient) -> bool:
    return (await api.get("/api/alerts")).status_code != 404


async def notes(page: Page) -> list[dict[str, str]]:
    found: list[dict[str, str]] = await page.evaluate("window.__notes")
    return found


async def test_firing_then_resolved_alert_moves_through_the_panel(
    page: Page, dash: DashServer, api: httpx.AsyncClient
) -> None:
    panel = page.locator("#alerts")
    await expect(page.locator("#connection")).to_have_text("live")
    if not await alerts_route(api):
        # A herald without alert rules: the panel says so and shows no empty groups.
        await expect(page.locator("#alerts-note")).to_contain_text("answered 404")
        await expect(page.locator("#alerts-groups")).to_be_hidden()

    await append(dash, "alerts", alert(FIRING, "volume-spike", "fp-1", 42, 30))
    firing = panel.locator('#alerts-firing li[data-rule="volume-spike"]')
    await expect(firing).to_contain_text("value 42 · threshold 30 · 300s window")
    await expect(firing).to_contain_text("stream=herald_news")
    await expect(firing.locator(".badge")).to_have_text("firing")
    await expect(page.locator("#alerts-groups")).to_be_visible()
    await expect(page.locator("#alerts-count")).to_have_text("1 firing")
    await expect(page.locator("#count-firing")).to_have_text("1")
    await expect(page.locator('#feed li[data-type="alert:firing"]')).to_contain_text(
        "volume-spike at 42 (threshold 30)"
    )

    await append(dash, "alerts", alert(RESOLVED, "volume-spike", "fp-1", 12, 30))
    resolved = panel.locator('#alerts-resolved li[data-rule="volume-spike"]')
    await expect(resolved.locator(".badge")).to_have_text("resolved")
    await expect(resolved.get_by_role("button", name="Silence")).to_have_count(0)
    await expect(panel.locator("#alerts-firing")).to_have_text("Nothing is firing.")
    await expect(page.locator("#alerts-count")).to_be_hidden()
    await page.locator("#filter-type").select_option("alert")
    await expect(page.locator("#feed li")).to_have_count(2)


async def test_firing_alert_notifies_once_when_allowed(
    open_page: OpenPage, dash: DashServer
) -> None:
    page = await open_page(permissions=["notifications"], init_script=NOTIFICATION_SPY)
    await expect(page.locator("#connection")).to_have_text("live")
    await expect(page.locator("#notify")).to_be_hidden()  # nothing to ask
    await expect(page.locator("#notify-state")).to_have_text("Notifications on for firing alerts.")

    await append(dash, "alerts", alert(FIRING, "negative-sentiment", "fp-2", -0.61, -0.4))
    await expect(page.locator('#alerts-firing li[data-rule="negative-sentiment"]')).to_be_visible()
    [note] = await notes(page)
    assert note["title"] == "Alert firing: negative-sentiment"
    assert note["body"] == "value -0.61 (threshold -0.40) over 300s"
    assert note["tag"] == "fp-2"
    # Resolving does not notify; a firing replayed from long ago is shown, not announced.
    await append(dash, "alerts", alert(RESOLVED, "negative-sentiment", "fp-2", 0.1, -0.4))
    old = alert(FIRING, "volume-spike", "fp-3", 50, 30, detected_at=ago(hours=1))
    await append(dash, "alerts", old)
    await expect(page.locator('#alerts-firing li[data-rule="volume-spike"]')).to_be_visible()
    await expect(
        page.locator('#alerts-resolved li[data-rule="negative-sentiment"]')
    ).to_be_visible()
    assert len(await notes(page)) == 1


async def test_no_notification_without_permission(open_page: OpenPage, dash: DashServer) -> None:
    page = await open_page(init_script=NOTIFICATION_SPY)
    await expect(page.locator("#connection")).to_have_text("live")
    # A fresh context has not been asked yet: the page asks only when the user clicks.
    assert await page.evaluate("Notification.permission") == "default"
    await expect(page.get_by_role("button", name="Enable notifications")).to_be_visible()
    await append(dash, "alerts", alert(FIRING, "volume-spike", "fp-4", 42, 30))
    await expect(page.locator('#alerts-firing li[data-rule="volume-spike"]')).to_be_visible()
    assert await notes(page) == []
    # The user allows them: the page asks on the click, and the next firing notifies.
    await page.context.grant_permissions(["notifications"])
    await page.get_by_role("button", name="Enable notifications").click()
    await expect(page.locator("#notify-state")).to_have_text("Notifications on for firing alerts.")
    await expect(page.locator("#notify")).to_be_hidden()
    await append(dash, "alerts", alert(FIRING, "keyword-outage", "fp-6", 2, 1))
    await expect(page.locator('#alerts-firing li[data-rule="keyword-outage"]')).to_be_visible()
    assert [n["title"] for n in await notes(page)] == ["Alert firing: keyword-outage"]


async def test_silence_from_the_page(page: Page, dash: DashServer, api: httpx.AsyncClient) -> None:
    await expect(page.locator("#connection")).to_have_text("live")
    await append(dash, "alerts", alert(FIRING, "keyword-outage", "fp-5", 1, 1))
    item = page.locator('#alerts-firing li[data-rule="keyword-outage"]')
    await item.get_by_role("button", name="Silence keyword-outage").click()
    dialog = page.locator("#silence-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Silence notifications of rule keyword-outage for:")
    await dialog.get_by_label("Duration").select_option("4h")
    await dialog.get_by_label("Comment").fill("known outage, on it")
    await dialog.get_by_role("button", name="Silence", exact=True).click()
    if not await alerts_route(api):
        # Nothing to send it to: the dialog says so and stays open; Cancel closes it.
        await expect(page.locator("#silence-error")).to_contain_text("does not take silences")
        await expect(dialog).to_be_visible()
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(dialog).to_be_hidden()
        await expect(item.locator(".silenced")).to_have_count(0)
        return
    await expect(dialog).to_be_hidden()
    await expect(item.locator(".silenced")).to_contain_text("silenced until")
    silences = (await api.get("/api/silences")).json()
    listed = silences["silences"] if isinstance(silences, dict) else silences
    [silence] = [s for s in listed if s.get("comment") == "known outage, on it"]
    assert silence["matchers"] == [{"name": "ruleId", "value": "keyword-outage", "isRegex": False}]


async def test_a_rule_of_herald_itself_fires_into_the_panel(
    open_page: OpenPage, dash: DashServer, api: httpx.AsyncClient
) -> None:
    """End to end: a keyword rule, a matching tweet polled, herald's alerts pipeline fires,
    and the page shows it and notifies."""
    assert dash.herald is not None
    rule = {"id": "recall", "type": "keyword", "condition": "contains", "threshold": "recall"}
    await dash.herald.alerts.create_rule({**rule, "channel": "ops"})
    response = await api.post("/api/streams/start", json={"type": "tweet", "username": "acme"})
    stream_id = str(response.json()["id"])
    await wait_polled(api, stream_id)
    page = await open_page(permissions=["notifications"], init_script=NOTIFICATION_SPY)
    await expect(page.locator("#connection")).to_have_text("live")

    dash.source.post("acme", "We announce a product recall of the model X charger")
    assert (await api.post(f"/api/streams/{stream_id}/poll")).json()["events"] == 1
    fired = page.locator('#feed li[data-type="alert:firing"]')
    await expect(fired).to_contain_text("recall at 1 (threshold recall)", timeout=30_000)
    # The item is weeks old by the stand-in's clock, so its alert may resolve at once; the
    # panel shows it under whichever state it reached.
    shown = page.locator('#alerts li.alert[data-rule="recall"]')
    await expect(shown).to_have_count(1)
    assert [n["title"] for n in await notes(page)] == ["Alert firing: recall"]
    if await alerts_route(api):  # the rule itself, from GET /api/alerts
        await expect(shown).to_contain_text("keyword contains recall")
