"""Every REST route, walked from the app's own route table, against every kind of caller.

A route added later without an access level, or without a way to call it here, fails
:func:`test_every_route_declares_one_access_level` — so none slips in unguarded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from herald.api import access
from herald.api.app import create_app
from herald.ratelimit import TokenBucket
from tests.auth.auth_support import ADMIN, READ_KEY, AuthServer, bearer, make_jwt

pytestmark = pytest.mark.timeout(90)

STREAM = "{stream}"  # replaced by the id of the stream a call targets
ALERT_RULE = {"type": "volume", "condition": "above", "threshold": 10, "window": 60}


@dataclass(frozen=True)
class Call:
    json: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    targets_stream: bool = False  # through the path, the body or the query
    success: tuple[int, ...] = (200,)
    streaming: bool = False  # an event stream: only its status is read


CALLS: dict[tuple[str, str], Call] = {
    ("POST", "/api/streams/start"): Call(
        json={"type": "mention", "username": "newbie"}, success=(201,)
    ),
    ("GET", "/api/streams"): Call(),
    ("POST", "/api/streams/stop"): Call(json={"streamId": STREAM}, targets_stream=True),
    ("POST", "/api/streams/stop-all"): Call(),
    ("GET", "/api/streams/stats"): Call(),
    ("GET", "/api/streams/{stream_id}"): Call(targets_stream=True),
    ("PATCH", "/api/streams/{stream_id}"): Call(json={"interval": 120}, targets_stream=True),
    ("POST", "/api/streams/{stream_id}/pause"): Call(targets_stream=True),
    ("POST", "/api/streams/{stream_id}/resume"): Call(targets_stream=True),
    ("POST", "/api/streams/{stream_id}/poll"): Call(targets_stream=True),
    ("GET", "/api/streams/{stream_id}/history"): Call(targets_stream=True),
    ("GET", "/api/events/log"): Call(params={"streamIds": STREAM}, targets_stream=True),
    ("GET", "/api/events"): Call(params={"streamIds": STREAM}, targets_stream=True, streaming=True),
    ("GET", "/api/streams/{stream_id}/events"): Call(targets_stream=True, streaming=True),
    ("GET", "/api/connections"): Call(),
    ("GET", "/api/health"): Call(),
    ("GET", "/api/presence"): Call(),
    ("GET", "/api/stream-types"): Call(),
    ("GET", "/metrics"): Call(),
    ("GET", "/api/browser-pool"): Call(),
    ("GET", "/api/accounts"): Call(),
    ("POST", "/api/accounts"): Call(
        json={"cookie": "auth_token=0123456789abcdef0123456789abcdef01234567"}, success=(201,)
    ),
    ("DELETE", "/api/accounts/{account_id}"): Call(success=(404,)),  # no such account
    ("GET", "/api/pipelines"): Call(),
    ("GET", "/api/pipelines/{pipeline}"): Call(success=(404,)),  # no such pipeline
    ("POST", "/api/pipelines/{pipeline}/pause"): Call(success=(404,)),
    ("POST", "/api/pipelines/{pipeline}/resume"): Call(success=(404,)),
    ("POST", "/api/pipelines/{pipeline}/replay"): Call(json={"deadLetters": True}, success=(404,)),
    ("GET", "/api/alerts"): Call(),
    ("POST", "/api/alerts"): Call(json=ALERT_RULE, success=(201,)),
    ("POST", "/api/alerts/test"): Call(
        json={"rule": ALERT_RULE, "from": "2026-01-01T00:00:00Z", "to": "2026-01-01T01:00:00Z"}
    ),
    ("GET", "/api/alerts/{rule_id}"): Call(success=(404,)),  # no such rule
    ("PATCH", "/api/alerts/{rule_id}"): Call(json={"enabled": False}, success=(404,)),
    ("PUT", "/api/alerts/{rule_id}"): Call(json=ALERT_RULE, success=(404,)),
    ("DELETE", "/api/alerts/{rule_id}"): Call(success=(404,)),
    ("GET", "/api/silences"): Call(),
    ("POST", "/api/silences"): Call(
        json={"matchers": [{"name": "ruleId", "value": "r"}], "endsAt": "2099-01-01T00:00:00Z"},
        success=(201,),
    ),
    ("DELETE", "/api/silences/{silence_id}"): Call(success=(404,)),  # no such silence
    # The envelope is checked before the service: a bad type is a 400 for whoever may write.
    ("POST", "/api/commands"): Call(json={"type": "no_such_type", "data": {}}, success=(400,)),
    ("GET", "/api/commands"): Call(success=(200, 503)),  # 503: no commands service here
    ("GET", "/api/commands/{command_id}"): Call(success=(404, 503)),
    ("GET", "/api/webhooks"): Call(),
    # a public address literal: checked without DNS, and nothing is sent on create
    ("POST", "/api/webhooks"): Call(json={"url": "https://93.184.215.14/hook"}, success=(201,)),
    ("GET", "/api/webhooks/{webhook_id}"): Call(success=(404,)),  # no such webhook
    ("PATCH", "/api/webhooks/{webhook_id}"): Call(json={"enabled": False}, success=(404,)),
    ("DELETE", "/api/webhooks/{webhook_id}"): Call(success=(404,)),
    ("GET", "/api/webhooks/{webhook_id}/attempts"): Call(success=(404,)),
    ("POST", "/api/webhooks/{webhook_id}/resend"): Call(json={"offset": "1-0"}, success=(404,)),
    ("POST", "/api/webhooks/{webhook_id}/skip"): Call(json={"offset": "1-0"}, success=(404,)),
    ("POST", "/api/webhooks/{webhook_id}/test"): Call(success=(404,)),
    ("GET", "/api/search"): Call(params={"streamId": STREAM}, targets_stream=True),
    ("GET", "/api/export"): Call(params={"streamId": STREAM}, targets_stream=True),
}


# The delivery routes (herald/delivery: SSE and the connection list) authenticate inside
# their handler; their level is stated here, and checked like every other's below.
SELF_GUARDED = {
    ("GET", "/api/connections"): "require_admin",  # herald/delivery/connections.py
    ("GET", "/api/events"): "require_caller",
    ("GET", "/api/streams/{stream_id}/events"): "require_stream",
}


def guarded_routes(server: AuthServer) -> list[tuple[str, str, Any]]:
    """(method, path, route) for every HTTP route under /api and /metrics, as served."""
    app: Any = create_app(server.herald)
    # The factory's HeraldApp holds the routes; delivery wraps the FastAPI app in front of
    # them (Socket.IO, the handshake gate).
    while not hasattr(app, "routes"):
        app = (
            getattr(app, "inner", None)
            or getattr(app, "other_asgi_app", None)
            or getattr(app, "app", None)
        )
        assert app is not None, "the FastAPI app was not found behind create_app's wrappers"
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and str(route.path).startswith(
            ("/api/", "/metrics")
        ):
            for method in sorted(route.methods or ()):
                found.append((method, str(route.path), route))
    return found


def access_levels(method: str, route: Any) -> set[str]:
    if (method, route.path) in SELF_GUARDED:
        return {SELF_GUARDED[(method, route.path)]}
    levels = {level.__name__ for level in access.ACCESS_LEVELS}
    seen: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        name = getattr(dependant.call, "__name__", "")
        if name in levels and dependant.call in access.ACCESS_LEVELS:
            seen.add(name)
        pending.extend(dependant.dependencies)
    # require_stream and require_all_streams/require_admin build on require_caller
    return seen - {"require_caller"} if len(seen) > 1 else seen


async def test_every_route_declares_one_access_level(server: AuthServer) -> None:
    routes = guarded_routes(server)
    documented = {
        (method.upper(), path)
        for path, ops in (await server.client.get("/openapi.json")).json()["paths"].items()
        for method in ops
    }
    assert {(m, p) for m, p, _ in routes} == documented
    for method, path, route in routes:
        assert (method, path) in CALLS, f"{method} {path}: add how to call it to CALLS"
        assert len(access_levels(method, route)) == 1, f"{method} {path}: declare one access level"


async def ensure_streams(server: AuthServer) -> tuple[str, str]:
    """The ids of stream A (@ann) and stream B (@bob), started again if a call stopped them."""
    manager = server.herald.manager
    current = {s["username"]: s["id"] for s in await manager.list_streams()}
    for name in ("ann", "bob"):
        if name not in current:
            current[name] = (await manager.create(type="tweet", username=name))["id"]
    newbie = [s["id"] for s in await manager.list_streams() if s["username"] == "newbie"]
    for sid in newbie:
        await manager.stop(sid)
    return current["ann"], current["bob"]


async def call(
    server: AuthServer, method: str, path: str, how: Call, headers: dict[str, str], target: str
) -> httpx.Response:
    def fill(value: Any) -> Any:
        return target if value == STREAM else value

    url = (
        path.replace("{stream_id}", target)
        .replace("{account_id}", "no-such-account")
        .replace("{pipeline}", "no-such-pipeline")
        .replace("{rule_id}", "no-such-rule")
        .replace("{silence_id}", "no-such-silence")
        .replace("{command_id}", "no-such-command")
    )
    body = {k: fill(v) for k, v in how.json.items()} if how.json is not None else None
    params = {k: fill(v) for k, v in how.params.items()}
    if not how.streaming:
        return await server.client.request(method, url, json=body, params=params, headers=headers)
    async with server.client.stream(method, url, params=params, headers=headers) as response:
        if response.status_code >= 400:
            await response.aread()
        return response


async def expect(
    server: AuthServer,
    method: str,
    path: str,
    headers: dict[str, str] | None,
    *,
    target_b: bool,
    allowed: bool,
) -> None:
    how = CALLS[(method, path)]
    a, b = await ensure_streams(server)
    response = await call(server, method, path, how, headers or {}, b if target_b else a)
    who = f"{method} {path} ({'B' if target_b else 'A'}) as {headers}"
    if headers is None:
        assert response.status_code == 401, who
    elif not allowed:
        assert response.status_code == 403, f"{who}: {response.status_code} {response.text}"
    else:
        assert response.status_code in how.success, f"{who}: {response.text}"
    if response.status_code >= 400:
        assert set(response.json()) >= {"error", "detail"}, who


READERS = {"read-key": "all-streams", "read-only": "all-streams", "read-only-A": "only-A"}


def verdict(level: str, how: Call, token: str, target_b: bool, method: str = "GET") -> bool:
    """May this kind of token make this call? (docs/auth.md)"""
    if token in READERS:  # a read-only token: what its stream claim allows, reads only
        return method in ("GET", "HEAD") and verdict(level, how, READERS[token], target_b)
    if token == "admin":
        return True
    if level in ("require_admin", "require_writer"):  # writers: admin or the commands scope
        return False
    if token == "all-streams":
        return True
    if level == "require_all_streams":
        return False
    if level == "require_stream" or how.targets_stream:
        return token == "only-A" and not target_b
    return True  # require_caller, nothing stream-specific: filtered answers


async def test_every_route_against_every_kind_of_caller(
    server: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The walk opens more event streams from one address within seconds than a client's
    # subscribe burst allows; the limit itself is tested with the delivery tests.
    assert server.herald.delivery is not None
    monkeypatch.setattr(server.herald.delivery.ctx, "limiter", TokenBucket(1000, 1000))
    for method, path, route in guarded_routes(server):
        (level,) = access_levels(method, route)
        how = CALLS[(method, path)]
        await expect(server, method, path, None, target_b=False, allowed=False)
        for kind in ("only-A", "none", "all-streams", "admin", *READERS):
            for target_b in (False, True):
                a, _ = await ensure_streams(server)
                headers = {
                    "only-A": bearer(make_jwt(streams=[a])),
                    "none": bearer(make_jwt(streams=[])),
                    "all-streams": bearer(make_jwt()),
                    "admin": ADMIN,
                    "read-key": bearer(READ_KEY),
                    # their own subjects: subscribe budgets are counted per subject
                    "read-only": bearer(make_jwt("dora", scope="read-only")),
                    "read-only-A": bearer(make_jwt("eli", streams=[a], scope=["read-only"])),
                }[kind]
                allowed = verdict(level, how, kind, target_b, method)
                await expect(server, method, path, headers, target_b=target_b, allowed=allowed)
