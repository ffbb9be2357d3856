"""The claim model (docs/auth.md), on the scenarios that once let a limited token do anything."""

from __future__ import annotations

import pytest

from herald.auth import Authenticator
from herald.errors import AuthError
from tests.auth.auth_support import ADMIN, API_KEY, SECRET, AuthServer, bearer, make_jwt

pytestmark = pytest.mark.timeout(60)


async def three_streams(server: AuthServer) -> list[str]:
    ids = []
    for name in ("ann", "bob", "cat"):
        started = await server.client.post(
            "/api/streams/start", json={"type": "tweet", "username": name}, headers=ADMIN
        )
        assert started.status_code == 201, started.text
        ids.append(started.json()["id"])
    return ids


def forbidden(response: object) -> bool:
    status = getattr(response, "status_code", 0)
    body = response.json() if status == 403 else {}  # type: ignore[attr-defined]
    return status == 403 and body.get("error") == "forbidden" and bool(body.get("detail"))


async def test_a_token_limited_to_stream_a_reaches_nothing_else(server: AuthServer) -> None:
    a, b, c = await three_streams(server)
    only_a = bearer(make_jwt(streams=[a]))
    http = server.client
    listed = (await http.get("/api/streams", headers=only_a)).json()
    assert [s["id"] for s in listed["streams"]] == [a] and listed["count"] == 1
    assert (await http.get(f"/api/streams/{a}/history", headers=only_a)).status_code == 200
    for method, url, body in [
        ("GET", f"/api/streams/{b}/history", None),
        ("GET", f"/api/streams/{b}", None),
        ("POST", f"/api/streams/{b}/pause", None),
        ("PATCH", f"/api/streams/{b}", {"interval": 300}),
        ("POST", "/api/streams/stop", {"streamId": b}),
        ("POST", "/api/streams/start", {"type": "tweet", "username": "dan"}),
        ("POST", "/api/accounts", {"cookie": "auth_token=" + "f" * 40}),
        ("GET", "/api/accounts", None),
        ("GET", "/api/streams/stats", None),
        ("POST", "/api/streams/stop-all", None),
    ]:
        response = await http.request(method, url, json=body, headers=only_a)
        assert forbidden(response), f"{method} {url}: {response.status_code} {response.text}"
    everything = (await http.get("/api/streams", headers=ADMIN)).json()
    assert sorted(s["id"] for s in everything["streams"]) == sorted([a, b, c])
    assert all(s["status"] == "active" and s["interval"] == 60000 for s in everything["streams"])
    assert (await http.get("/api/accounts", headers=ADMIN)).json()["count"] == 0


async def test_an_empty_streams_claim_reaches_no_stream(server: AuthServer) -> None:
    a, _, _ = await three_streams(server)
    none = bearer(make_jwt(streams=[]))
    listed = await server.client.get("/api/streams", headers=none)
    assert listed.status_code == 200 and listed.json()["count"] == 0
    assert forbidden(await server.client.get(f"/api/streams/{a}", headers=none))
    assert forbidden(await server.client.post("/api/streams/stop-all", headers=none))


async def test_every_stream_without_admin_runs_streams_but_starts_none(
    server: AuthServer,
) -> None:
    a, b, _ = await three_streams(server)
    operator = bearer(make_jwt())
    http = server.client
    assert (await http.get("/api/streams", headers=operator)).json()["count"] == 3
    assert (await http.post(f"/api/streams/{b}/pause", headers=operator)).status_code == 200
    assert (await http.get("/api/streams/stats", headers=operator)).status_code == 200
    start = await http.post(
        "/api/streams/start", json={"type": "tweet", "username": "dan"}, headers=operator
    )
    assert forbidden(start)
    # a new session cookie joins the shared pool: that is the admin's call, and nothing is stored
    patched = await http.patch(f"/api/streams/{a}", json={"authToken": "e" * 40}, headers=operator)
    assert forbidden(patched) and patched.json()["detail"].startswith("authToken")
    assert (await http.get("/api/accounts", headers=ADMIN)).json()["count"] == 0


async def test_the_admin_claim_starts_stops_all_and_manages_accounts(server: AuthServer) -> None:
    await three_streams(server)
    admin = bearer(make_jwt(admin=True))
    http = server.client
    start = await http.post(
        "/api/streams/start", json={"type": "tweet", "username": "dan"}, headers=admin
    )
    assert start.status_code == 201
    added = await http.post("/api/accounts", json={"cookie": "d" * 40}, headers=admin)
    assert added.status_code == 201 and "d" * 40 not in added.text
    stopped = await http.post("/api/streams/stop-all", headers=admin)
    assert stopped.json() == {"stopped": 4, "failed": 0, "total": 4}


ALERT_RULE = {"type": "volume", "condition": "above", "threshold": 10, "window": 60}
SILENCE = {"matchers": [{"name": "ruleId", "value": "r"}], "endsAt": "2099-01-01T00:00:00Z"}


async def test_alerts_and_silences_refuse_a_token_limited_to_some_streams(
    server: AuthServer,
) -> None:
    """A rule's scope reaches across streams, so a limited token may not even read one;
    a token over every stream reads them and changes nothing; admin changes them."""
    a, _, _ = await three_streams(server)
    http = server.client
    rule = (await http.post("/api/alerts", json=ALERT_RULE, headers=ADMIN)).json()
    silence = (await http.post("/api/silences", json=SILENCE, headers=ADMIN)).json()
    window = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T01:00:00Z"}
    reads = [
        ("GET", "/api/alerts", None),
        ("GET", f"/api/alerts/{rule['id']}", None),
        ("GET", "/api/silences", None),
        ("POST", "/api/alerts/test", {"ruleId": rule["id"], **window}),
    ]
    writes = [
        ("POST", "/api/alerts", {**ALERT_RULE, "scope": {"streams": [a]}}),
        ("PATCH", f"/api/alerts/{rule['id']}", {"enabled": False}),
        ("PUT", f"/api/alerts/{rule['id']}", {**ALERT_RULE, "threshold": 99}),
        ("DELETE", f"/api/alerts/{rule['id']}", None),
        ("POST", "/api/silences", SILENCE),
        ("DELETE", f"/api/silences/{silence['id']}", None),
    ]
    for token in (make_jwt(streams=[a]), make_jwt(streams=[])):
        for method, url, body in reads + writes:
            response = await http.request(method, url, json=body, headers=bearer(token))
            assert forbidden(response), f"{method} {url}: {response.status_code} {response.text}"
    operator = bearer(make_jwt())
    for method, url, body in reads:
        response = await http.request(method, url, json=body, headers=operator)
        assert response.status_code == 200, f"{method} {url}: {response.text}"
    for method, url, body in writes:
        response = await http.request(method, url, json=body, headers=operator)
        assert forbidden(response), f"{method} {url}: {response.status_code} {response.text}"
    kept = (await http.get(f"/api/alerts/{rule['id']}", headers=ADMIN)).json()
    assert kept["enabled"] is True and kept["threshold"] == 10
    assert (await http.get("/api/alerts", headers=ADMIN)).json()["count"] == 1
    assert (await http.get("/api/silences", headers=ADMIN)).json()["count"] == 1


def test_contradictory_or_malformed_admin_claims_are_refused() -> None:
    auth = Authenticator([API_KEY], SECRET)
    assert auth.authenticate(API_KEY).admin
    assert auth.authenticate(make_jwt(admin=True)).admin
    assert not auth.authenticate(make_jwt()).admin
    with pytest.raises(AuthError, match="admin token cannot be limited"):
        auth.authenticate(make_jwt(admin=True, streams=["s1"]))
    with pytest.raises(AuthError, match="admin must be true or false"):
        auth.authenticate(make_jwt(admin="yes"))


async def test_mcp_over_http_needs_admin(server: AuthServer) -> None:
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    headers = {"accept": "application/json, text/event-stream"}
    for token, allowed in [
        (make_jwt(streams=["s1"]), False),
        (make_jwt(), False),
        (make_jwt(admin=True), True),
        (API_KEY, True),
    ]:
        response = await server.client.post("/mcp", json=init, headers={**headers, **bearer(token)})
        if allowed:
            assert response.status_code == 200, response.text
        else:
            assert forbidden(response), response.text
    assert (await server.client.post("/mcp", json=init, headers=headers)).status_code == 401
