"""No secret in ``herald serve -v``'s output, through every path a cookie travels.

A real ``herald serve -v`` (DEBUG: httpcore traces every header) against a real
``herald fakex``: a good cookie that gets its ct0 handed out, a cookie with a newline
planted by an older herald (h11 quotes it in its exception), bad cookies refused at the
door, X's 401s, 503s and garbage. Then every byte the server wrote is searched for each
secret it was given.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from herald.sources.x.accounts import AccountStore
from herald.store.keys import Keys
from herald.store.secrets import Cipher
from herald.store.streams import StreamStore
from tests.auth.auth_support import API_KEY, READ_KEY, SECRET, make_jwt
from tests.conftest import EXTERNAL_REDIS_URL
from tests.processes import herald_process
from tests.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

GOOD = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"  # the env cookie's auth_token
STREAM_TOKEN = "c0c0c0c0b1b1b1b1a2a2a2a2d3d3d3d3e4e4e4e4"  # a stream's own authToken
PLANTED = "badbadbad0123456789abcdef0123456789abcde"  # stored by an older herald, with a newline
SECRET_KEY = "redaction-test-secret-key"
REFUSED = ["auth_token=refused-\u00e9t\u00e9-0123456789", "auth_token=refused-line\nX: y"]


async def plant_broken_account(redis: aioredis.Redis, keys: Keys) -> str:
    """What an older herald stored without checking: a cookie with a newline in it."""
    store = AccountStore(redis, keys, Cipher(SECRET_KEY))
    cookie = f"auth_token={PLANTED}\nX-Injected: yes"
    account_id = store.account_id(cookie)
    await redis.hset(
        keys.account(account_id),
        mapping={"cookie": Cipher(SECRET_KEY).encrypt(cookie), "addedAt": "1", "health": "ok"},
    )
    await redis.zadd(keys.accounts, {account_id: 1})
    return account_id


async def test_no_secret_reaches_the_verbose_log(
    external_redis: aioredis.Redis, key_prefix: str, tmp_path: Path
) -> None:
    keys = Keys(key_prefix)
    fake_port, port = free_port(), free_port()
    fake_url, url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REDIS_URL": EXTERNAL_REDIS_URL,
        "HERALD_REDIS_PREFIX": key_prefix,
        "HERALD_DATA_DIR": str(tmp_path / "data"),
        "HERALD_X_BASE_URL": fake_url,
        "HERALD_SESSION_COOKIE": f"auth_token={GOOD}",
        "HERALD_SECRET_KEY": SECRET_KEY,
        "HERALD_API_KEYS": API_KEY,
        "HERALD_READ_API_KEYS": READ_KEY,
        "HERALD_JWT_SECRET": SECRET,
        "HERALD_POLL_TIMEOUT": "3",
    }
    fake_log, log = tmp_path / "fakex.log", tmp_path / "serve.log"
    fake_args = ["fakex", "--port", str(fake_port)]
    serve_args = ["serve", "-v", "--no-worker", "--port", str(port)]
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with (
        herald_process(fake_args, env, fake_log, f"{fake_url}/"),
        herald_process(serve_args, env, log, f"{url}/api/health"),
        httpx.AsyncClient(base_url=url, headers=headers, timeout=15) as api,
        httpx.AsyncClient(base_url=fake_url, timeout=5) as fake,
    ):

        async def start(name: str, **extra: str) -> str:
            body = {"type": "tweet", "username": name, **extra}
            response = await api.post("/api/streams/start", json=body)
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        async def poll(sid: str) -> dict[str, object]:
            response = await api.post(f"/api/streams/{sid}/poll")
            assert response.status_code == 200, response.text
            answer: dict[str, object] = response.json()
            return answer

        # the env cookie: ct0 handed out in a Set-Cookie, then a new tweet
        alice = await start("alice")
        assert (await poll(alice))["outcome"] == "baseline"
        await fake.post("/_fakex/users/alice/tweets", json={"text": "fresh"})
        assert (await poll(alice))["events"] == 1
        # a stream's own authToken, then X's 401, 503 and a garbled body on it
        bob = await start("bob", authToken=STREAM_TOKEN)
        assert (await poll(bob))["outcome"] == "baseline"
        for fault in ({"status": 503}, {"mode": "garbage"}, {"status": 401}):
            await fake.post("/_fakex/faults", json=fault)
            assert (await poll(bob))["outcome"] == "error"
        # bad cookies at the door: refused, never stored
        for cookie in REFUSED:
            refused = await api.post("/api/accounts", json={"cookie": cookie})
            assert refused.status_code == 400
        refused = await api.post(
            "/api/streams/start",
            json={"type": "tweet", "username": "carol", "authToken": REFUSED[0]},
        )
        assert refused.status_code == 400
        # a planted cookie with a newline: h11 refuses to send it, the account turns unhealthy
        planted = await plant_broken_account(external_redis, keys)
        carol = await start("carol")
        store = StreamStore(external_redis, keys, ttl=3600)
        await store.update_meta(carol, {"accountId": planted})
        answer = await poll(carol)
        assert answer["outcome"] == "error" and "not a valid HTTP header" in str(answer["error"])
        accounts = (await api.get("/api/accounts")).json()["accounts"]
        assert {a["id"]: a["health"] for a in accounts}[planted] == "auth_failed"
        # a JWT and a query-string token on the wire
        jwt_token = make_jwt(admin=True)
        assert (await api.get(f"/api/streams?token={jwt_token}", headers={})).status_code == 200
        # a read key, reading and then refused a write
        reader = {"Authorization": f"Bearer {READ_KEY}"}
        assert (await api.get("/api/streams", headers=reader)).status_code == 200
        assert (await api.post(f"/api/streams/{alice}/pause", headers=reader)).status_code == 403

    output = log.read_bytes().decode("utf-8", "replace")
    assert "httpcore" in output and "DEBUG" in output, "the log was not verbose"
    assert "Illegal header value" in output, "the planted cookie never reached h11"
    for secret in [GOOD, STREAM_TOKEN, PLANTED, API_KEY, READ_KEY, SECRET, SECRET_KEY, jwt_token]:
        assert secret not in output, f"a secret leaked: {secret[:6]}..."
    for cookie in REFUSED:
        assert cookie.split("=", 1)[1][:12] not in output
    assert not re.search(r"[0-9a-f]{160}", output), "a ct0 leaked"
    assert not re.search(r"auth_token=(?!<redacted>)", output)
