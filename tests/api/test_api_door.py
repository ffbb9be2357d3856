"""Validation at the door: bad cookies and tokens get a 400 naming the field and store nothing;
every answer, even a bug's, is a JSON ``{error, detail}``; the OpenAPI document tells the truth.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from herald.api.errors import install_error_handlers
from tests.api.conftest import Server
from tests.servers import serve_asgi

MAX_COOKIE = 4096  # the documented bound (docs/configuration.md)
GOOD_TOKEN = "0123456789abcdef0123456789abcdef01234567"
BAD_TOKENS = [
    pytest.param("tökén-0123456789", id="non-ascii"),
    pytest.param("abc\ndef", id="newline"),
    pytest.param("abc\x7fdef", id="del"),
    pytest.param("a" * (MAX_COOKIE + 1), id="over-the-bound"),
]


async def stored_accounts(server: Server) -> list[bytes]:
    """The account keys exactly (a stream id may contain "acc" by chance)."""
    found: list[bytes] = []
    for pattern in (server.herald.keys.account("*"), server.herald.keys.accounts):
        found += [k async for k in server.herald.redis.scan_iter(match=pattern)]
    return found


def is_error(response: httpx.Response, status: int, field: str) -> bool:
    body = response.json()
    return (
        response.status_code == status
        and body.get("error") == "validation_error"
        and str(body.get("detail", "")).startswith(f"{field}: ")
    )


@pytest.mark.parametrize("token", BAD_TOKENS)
async def test_start_refuses_an_auth_token_http_cannot_carry(server: Server, token: str) -> None:
    response = await server.client.post(
        "/api/streams/start", json={"type": "tweet", "username": "ann", "authToken": token}
    )
    assert is_error(response, 400, "authToken"), response.text
    assert token not in response.text
    assert (await server.client.get("/api/streams")).json()["count"] == 0
    assert await stored_accounts(server) == []


@pytest.mark.parametrize("token", BAD_TOKENS)
async def test_a_refused_patch_stores_nothing(server: Server, token: str) -> None:
    sid = (
        await server.client.post("/api/streams/start", json={"type": "tweet", "username": "ann"})
    ).json()["id"]
    before = (await server.client.get(f"/api/streams/{sid}")).json()
    response = await server.client.patch(
        f"/api/streams/{sid}", json={"interval": 300, "authToken": token}
    )
    assert is_error(response, 400, "authToken"), response.text
    after = (await server.client.get(f"/api/streams/{sid}")).json()
    assert after["interval"] == before["interval"] == 60000
    assert after.get("accountId") == before.get("accountId")
    assert await stored_accounts(server) == []
    # a good token with a bad interval: refused as a whole, no account either
    mixed = await server.client.patch(
        f"/api/streams/{sid}", json={"authToken": GOOD_TOKEN, "interval": 1}
    )
    assert is_error(mixed, 400, "interval") and await stored_accounts(server) == []


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param(f"auth_token={GOOD_TOKEN}\nct0=abc", id="newline"),
        pytest.param("x" * 23_000, id="23KB"),
        pytest.param(f"auth_token={GOOD_TOKEN}é", id="non-ascii"),
        pytest.param("ct0=abc", id="no-auth_token"),
        pytest.param(42, id="not-a-string"),
    ],
)
async def test_accounts_refuse_a_cookie_http_cannot_carry(server: Server, cookie: Any) -> None:
    response = await server.client.post("/api/accounts", json={"cookie": cookie})
    assert is_error(response, 400, "cookie"), response.text
    assert (await server.client.get("/api/accounts")).json()["count"] == 0


async def test_a_good_cookie_is_still_welcome(server: Server) -> None:
    response = await server.client.post(
        "/api/accounts", json={"cookie": f"auth_token={GOOD_TOKEN}; ct0=abc"}
    )
    assert response.status_code == 201 and GOOD_TOKEN not in response.text
    assert len(await stored_accounts(server)) == 2  # the account's hash and the index


@pytest.mark.herald_options(worker=False)
async def test_a_busy_poll_is_a_409_error_body(server: Server) -> None:
    sid = (
        await server.client.post("/api/streams/start", json={"type": "tweet", "username": "ann"})
    ).json()["id"]
    # another worker holds the stream's poll lease
    await server.herald.redis.set(server.herald.keys.lock(sid), "other-worker", px=30_000)
    response = await server.client.post(f"/api/streams/{sid}/poll")
    body = response.json()
    assert response.status_code == 409, response.text
    assert body["error"] == "poll_busy" and sid in body["detail"] and body["outcome"] == "busy"


async def test_an_unexpected_failure_is_a_json_500_without_internals() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("internal state: s3cr3t-value")

    async with serve_asgi(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "internal" and "s3cr3t" not in response.text


async def test_openapi_lists_the_answers_herald_sends(server: Server) -> None:
    doc = (await server.client.get("/openapi.json")).json()
    text = str(doc)
    assert "422" not in doc["paths"].__repr__() and "HTTPValidationError" not in text
    error = doc["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error", "detail"]
    paths = doc["paths"]

    def codes(path: str, method: str) -> set[str]:
        return set(paths[path][method]["responses"])

    assert {"201", "400", "409", "413"} <= codes("/api/streams/start", "post")
    assert {"200", "400", "404", "409"} <= codes("/api/streams/{stream_id}/poll", "post")
    assert {"200", "404"} <= codes("/api/streams/{stream_id}", "get")
    assert {"201", "400"} <= codes("/api/accounts", "post")
    for ops in paths.values():
        for op in ops.values():
            for status, answer in op["responses"].items():
                if status.startswith("4"):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}

    def param(path: str, name: str) -> dict[str, Any]:
        (found,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == name]
        schema: dict[str, Any] = found["schema"]
        return schema

    history = param("/api/streams/{stream_id}/history", "limit")
    assert history["minimum"] == 1 and history["maximum"] == server.herald.settings.history_size
    assert param("/api/events/log", "limit")["maximum"] == 1000
    assert param("/api/events/log", "wait")["maximum"] == 60
