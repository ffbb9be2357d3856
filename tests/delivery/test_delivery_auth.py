"""Auth on every transport: API keys, JWTs, and a ``streams`` claim that cannot be widened."""

from __future__ import annotations

import time
from typing import Any

import jwt
import orjson
import pytest
import redis.asyncio as aioredis
import socketio
import websockets
from delivery_helpers import append, running_server, sentinel, tweet, wait_for

from herald.auth import Authenticator, token_from_headers_and_query
from herald.errors import AuthError
from herald.ratelimit import TokenBucket
from herald.store.keys import Keys

pytestmark = pytest.mark.timeout(30)

SECRET = "test-secret-of-sufficient-length-32b"


def make_jwt(sub: str = "carol", streams: list[str] | None = None, ttl: float = 60) -> str:
    claims: dict[str, Any] = {"sub": sub, "exp": int(time.time() + ttl)}
    if streams is not None:
        claims["streams"] = streams
    return jwt.encode(claims, SECRET, algorithm="HS256")


def test_authenticator_keys_and_jwts() -> None:
    off = Authenticator([], None)
    assert not off.enabled and off.authenticate(None).streams is None
    auth = Authenticator(["k1", "k2"], SECRET)
    assert auth.enabled
    assert auth.authenticate("k2").subject.startswith("key:")
    principal = auth.authenticate(make_jwt(streams=["s1"]))
    assert principal.subject == "carol" and principal.streams == frozenset({"s1"})
    for bad, reason in [
        (None, "missing"),
        ("k3", "invalid"),
        (make_jwt(ttl=-10), "expired"),
        (
            jwt.encode({"sub": "x", "exp": time.time() + 60}, "other-secret-xxxxxxxxxxxxxxxxxxxxx"),
            "invalid",
        ),
        (jwt.encode({"sub": "x"}, SECRET), "invalid"),
    ]:
        with pytest.raises(AuthError, match=reason):
            auth.authenticate(bad)


def test_token_from_headers_and_query() -> None:
    assert token_from_headers_and_query({"authorization": "Bearer abc"}, {}) == "abc"
    assert token_from_headers_and_query({}, {"token": "q"}) == "q"
    assert token_from_headers_and_query({"authorization": "Basic x"}, {}) is None


def test_token_bucket_limits_and_stays_bounded() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, max_keys=100, clock=lambda: now[0])
    assert [bucket.allow("a") for _ in range(4)] == [True, True, True, False]
    assert bucket.retry_after("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert bucket.allow("a")
    for i in range(1000):
        bucket.allow(f"k{i}")
    assert len(bucket) <= 100


async def test_socketio_handshake_refused_with_reason(
    external_redis: aioredis.Redis, keys: Keys
) -> None:
    async with running_server(external_redis, keys, jwt_secret=SECRET) as srv:
        client = socketio.AsyncClient(reconnection=False)
        errors: list[Any] = []
        client.on("connect_error", errors.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(srv.url, transports=["websocket"])
        assert errors and "missing token" in errors[0]["message"]
        assert errors[0]["data"]["error"] == "unauthorized"
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(srv.url, transports=["websocket"], auth={"token": make_jwt()})
        await client.disconnect()


async def test_jwt_streams_claim_limits_compat_mode_and_cannot_be_widened(
    external_redis: aioredis.Redis, keys: Keys
) -> None:
    async with running_server(external_redis, keys, jwt_secret=SECRET) as srv:
        token = make_jwt(streams=["s1"])
        client = socketio.AsyncClient(reconnection=False)
        got: list[dict[str, Any]] = []
        client.on("stream:tweet:new", got.append)
        await client.connect(srv.url, transports=["websocket"], auth={"token": token})
        try:
            await append(srv.redis, srv.keys, [tweet(1, "s2"), tweet(2, "s1")])
            await wait_for(lambda: len(got) == 1)
            assert got[0]["streamId"] == "s1"
            refused = await client.call("subscribe", {"streamIds": ["s1", "s2"]}, timeout=5)
            assert refused["error"] == "forbidden" and "s2" in refused["detail"]
            ack = await client.call("subscribe", {"types": ["stream:tweet:new"]}, timeout=5)
            assert ack["recovered"] is True
            await append(srv.redis, srv.keys, [tweet(3, "s2"), tweet(4, "s1")])
            await wait_for(lambda: len(got) == 2)
            await sentinel(srv.redis, srv.keys, got)  # s2's event, had it come, came first
            assert [e["streamId"] for e in got] == ["s1", "s1", "s1"]
        finally:
            await client.disconnect()

        url = srv.ws_url + "?token=" + token
        async with websockets.connect(url) as ws:
            req = {"type": "events:stream:v1:requested", "id": 1, "payload": {"streamIds": ["s2"]}}
            await ws.send(orjson.dumps(req).decode())
            msg = orjson.loads(await ws.recv())
            assert msg["type"] == "events:stream:v1:error" and msg["id"] == 1
            assert "s2" in msg["payload"]["detail"]


async def test_subscribe_requests_are_rate_limited(
    external_redis: aioredis.Redis, keys: Keys
) -> None:
    async with running_server(external_redis, keys) as srv:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(srv.url, transports=["websocket"])
        try:
            answers = [await client.call("subscribe", {}, timeout=5) for _ in range(25)]
            limited = [a for a in answers if a.get("error") == "rate_limited"]
            assert limited and limited[0]["retryAfter"] > 0
        finally:
            await client.disconnect()
