"""Session cookies, csrf and rate budgets behave as on x.com."""

from __future__ import annotations

import time

import httpx
from fastapi import FastAPI

from herald.testing.fakex import create_app
from tests.testing.fakex_support import AUTH_TOKEN, CT0, Gql, graphql, session_client


async def test_no_auth_token_is_401_with_x_error(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(base_url="http://fakex.test", transport=transport) as bare:
        r = await graphql(bare, "UserByScreenName", screen_name="alice")
    assert r.status_code == 401
    assert r.json() == {"errors": [{"code": 32, "message": "Could not authenticate you."}]}


async def test_ct0_is_handed_out_and_then_required(live_url: str) -> None:
    """Over a real socket: the cookie jar picks ct0 up from Set-Cookie, as a client would."""
    async with httpx.AsyncClient(base_url=live_url, cookies={"auth_token": AUTH_TOKEN}) as c:
        refused = await graphql(c, "UserByScreenName", screen_name="alice")
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["code"] == 353
        assert "x-rate-limit-remaining" not in refused.headers
        settings = await c.get("/i/api/1.1/account/settings.json")
        assert settings.status_code == 200
        ct0 = c.cookies["ct0"]
        assert len(ct0) == 160 and int(ct0, 16) >= 0
        still = await graphql(c, "UserByScreenName", screen_name="alice")
        assert still.status_code == 403  # the cookie alone is not enough: the header must match
        wrong = await c.get(
            "/i/api/graphql/q/UserByScreenName",
            params={"variables": '{"screen_name":"alice"}'},
            headers={"x-csrf-token": "0" * 160},
        )
        assert wrong.status_code == 403
        c.headers["x-csrf-token"] = ct0
        ok = await graphql(c, "UserByScreenName", screen_name="alice")
        assert ok.status_code == 200
        assert ok.json()["data"]["user"]["result"]["core"]["screen_name"] == "alice"
        again = await c.get("/i/api/1.1/account/settings.json")
        assert "set-cookie" not in again.headers  # a session that has ct0 keeps it


async def test_settings_without_auth_token(client: httpx.AsyncClient) -> None:
    client.cookies.clear()
    r = await client.get("/i/api/1.1/account/settings.json")
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == 32


async def test_rate_limit_headers_count_down_per_operation(gql: Gql) -> None:
    first = await gql("UserByScreenName", screen_name="alice")
    second = await gql("UserByScreenName", screen_name="bob")
    other = await gql("SearchTimeline", rawQuery="@alice")
    assert first.headers["x-rate-limit-limit"] == "500"
    assert first.headers["x-rate-limit-remaining"] == "499"
    assert second.headers["x-rate-limit-remaining"] == "498"
    assert other.headers["x-rate-limit-remaining"] == "499"
    reset = int(first.headers["x-rate-limit-reset"])
    assert time.time() + 880 < reset <= time.time() + 901


async def test_spent_budget_is_429_until_reset() -> None:
    app = create_app(rate_limit=2, rate_window=60)
    async with session_client("http://fakex.test", httpx.ASGITransport(app=app)) as c:
        answers = [await graphql(c, "UserByScreenName", screen_name="alice") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[1].headers["x-rate-limit-remaining"] == "0"
        assert answers[2].json()["errors"][0]["code"] == 88
        assert answers[2].headers["x-rate-limit-remaining"] == "0"
        c.cookies.set("auth_token", "another-session")
        c.cookies.set("ct0", CT0)
        assert (await graphql(c, "UserByScreenName", screen_name="alice")).status_code == 200
