"""fakedon against the cassettes it is built from: the same fields, the same headers, the
same Link pagination; and its control API (statuses, follows, mentions, closed feeds, rate
limits, faults, request counts, reset)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from herald.testing.fakedon import create_app
from herald.testing.fakedon.recordings import Exchange, load_cassette
from tests.conftest import need

HOST = "http://fakedon.test"


@pytest.fixture
def cassettes(fixtures_dir: Path) -> Path:
    folder = fixtures_dir / "mastodon"
    need(folder.is_dir(), f"Mastodon cassettes not found at {folder}")
    return folder


@pytest.fixture
async def don(cassettes: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(cassettes, base_url=HOST)
    async with httpx.AsyncClient(base_url=HOST, transport=httpx.ASGITransport(app=app)) as c:
        yield c


def recorded(cassettes: Path, name: str, path_part: str) -> Exchange:
    return next(
        e
        for e in load_cassette(cassettes / f"{name}.yaml")
        if e.method == "GET" and path_part in e.path + "?" + e.query
    )


async def control(don: httpx.AsyncClient, method: str, path: str, **kw: Any) -> Any:
    response = await don.request(method, f"/_fakedon{path}", **kw)
    assert response.status_code < 400, response.text
    return response.json()


async def test_same_fields_and_headers_as_recorded(don: httpx.AsyncClient, cassettes: Path) -> None:
    real = recorded(cassettes, "test_public_tl", "/api/v1/timelines/public?")
    mine = await don.get("/api/v1/timelines/public")
    assert mine.status_code == 200
    skip = {"server-timing", "content-length"}
    assert set(real.headers) - skip <= set(mine.headers)
    assert mine.headers["content-type"] == real.headers["content-type"]
    assert mine.headers["x-ratelimit-limit"] == "300"
    assert mine.headers["x-ratelimit-reset"].endswith("Z")
    await control(don, "POST", "/statuses", json={"account": "mastodonpy_test", "text": "new #x"})
    fresh = (await don.get("/api/v1/timelines/public")).json()
    assert set(fresh[0]) == set(real.json()[0]) - {"pinned"} | ({"pinned"} & set(fresh[0]))
    assert fresh[0]["tags"] == [{"name": "x", "url": f"{HOST}/tags/x"}]
    assert fresh[0]["content"] == "<p>new #x</p>"
    lookup = recorded(cassettes, "test_account_lookup", "acct=mastodonpy_test")
    mine_account = (await don.get("/api/v1/accounts/lookup?acct=mastodonpy_test")).json()
    assert set(mine_account) == set(lookup.json())
    missing = await don.get("/api/v1/accounts/lookup?acct=kljadklajsdkljlkjlkjlkjasdasd")
    assert missing.status_code == 404
    assert missing.text == recorded(cassettes, "test_account_lookup", "kljad").body


async def test_link_pagination_as_recorded(don: httpx.AsyncClient, cassettes: Path) -> None:
    """test_fetch_next_previous: limit=5, then the next (max_id) and prev (min_id) pages."""
    record = [
        e
        for e in load_cassette(cassettes / "test_fetch_next_previous.yaml")
        if e.method == "GET" and "statuses" in e.path
    ]
    account = record[0].path.split("/")[4]
    # later recordings hold newer statuses of the same account: start where this one did
    top = str(int(record[0].json()[0]["id"]) + 1)
    first = await don.get(
        f"/api/v1/accounts/{account}/statuses", params={"limit": 5, "max_id": top}
    )
    assert [s["id"] for s in first.json()] == [s["id"] for s in record[0].json()]
    assert first.headers["link"] == record[0].headers["link"].replace("http://localhost:3000", HOST)
    older = await don.get(f"/api/v1/accounts/{account}/statuses?{record[1].query}")
    assert [s["id"] for s in older.json()] == [s["id"] for s in record[1].json()]
    assert older.headers["link"] == record[1].headers["link"].replace("http://localhost:3000", HOST)
    newer = await don.get(f"/api/v1/accounts/{account}/statuses?{record[2].query}")
    assert [s["id"] for s in newer.json()] == [s["id"] for s in record[2].json()]
    since = await don.get(
        f"/api/v1/accounts/{account}/statuses",
        params={"limit": 2, "since_id": record[0].json()[2]["id"], "max_id": top},
    )
    assert [s["id"] for s in since.json()] == [s["id"] for s in record[0].json()[:2]]


async def test_mentions_follows_and_tokens(don: httpx.AsyncClient, cassettes: Path) -> None:
    assert (await don.get("/api/v1/notifications")).status_code == 401
    await control(
        don, "POST", "/tokens", json={"token": "tok-123456", "account": "mastodonpy_test"}
    )
    auth = {"Authorization": "Bearer tok-123456"}
    assert (
        await don.get("/api/v1/notifications", headers={"Authorization": "Bearer x"})
    ).status_code == 401
    notes = await don.get("/api/v1/notifications", params={"types[]": "mention"}, headers=auth)
    real = recorded(cassettes, "test_notifications_mentions_only", "notifications")
    assert notes.json() == real.json()
    assert notes.headers["link"] == real.headers["link"].replace("http://localhost:3000", HOST)
    await control(don, "POST", "/mentions", json={"from": "admin", "to": "mastodonpy_test"})
    notes = (await don.get("/api/v1/notifications", headers=auth)).json()
    assert notes[0]["type"] == "mention" and int(notes[0]["id"]) > 21
    me = (await don.get("/api/v1/accounts/verify_credentials", headers=auth)).json()
    added = await control(
        don, "POST", "/accounts/mastodonpy_test/followers", json={"username": "zed"}
    )
    assert added == {"added": True, "followers": me["followers_count"] + 1}
    followers = (await don.get(f"/api/v1/accounts/{me['id']}/followers")).json()
    assert [f["acct"] for f in followers] == ["zed"]
    await control(don, "DELETE", "/accounts/mastodonpy_test/followers/zed")
    assert (await don.get(f"/api/v1/accounts/{me['id']}/followers")).json() == []


async def test_closed_feeds_rate_limits_faults_counts_and_reset(don: httpx.AsyncClient) -> None:
    await control(don, "POST", "/timelines", json={"access": "authenticated"})
    refused = await don.get("/api/v1/timelines/public")
    assert refused.status_code == 422
    assert refused.json() == {"error": "This method requires an authenticated user"}
    instance = (await don.get("/api/v2/instance")).json()
    assert instance["configuration"]["timelines_access"]["live_feeds"]["local"] == "authenticated"
    await control(don, "POST", "/timelines", json={"access": "disabled", "answer": "empty"})
    assert (await don.get("/api/v1/timelines/tag/hoot")).json() == []
    await control(
        don, "POST", "/ratelimit", json={"remaining": 1, "resetIn": 30, "retryAfter": True}
    )
    ok = await don.get("/api/v1/instance")
    assert ok.status_code == 200 and ok.headers["x-ratelimit-remaining"] == "0"
    spent = await don.get("/api/v1/instance")
    assert spent.status_code == 429 and 1 <= int(spent.headers["retry-after"]) <= 30
    assert spent.json() == {"error": "Too many requests"}
    await control(don, "POST", "/reset")
    await control(don, "POST", "/faults", json={"status": 500, "count": 2})
    assert [(await don.get("/api/v2/instance")).status_code for _ in range(3)] == [500, 500, 200]
    counts = await control(don, "GET", "/requests")
    assert counts == {"total": 3, "paths": {"instance": 3}}
    bad = await don.post("/_fakedon/faults", json={"status": 200})
    assert bad.status_code == 400 and "status" in bad.json()["error"]
    missing = await don.post("/_fakedon/statuses", json={"account": "nobody", "text": "x"})
    assert missing.status_code == 404
    assert (await don.get("/api/v1/timelines/public")).status_code == 200  # reset reopened


def test_no_cassettes_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no Mastodon cassettes"):
        create_app(tmp_path)
