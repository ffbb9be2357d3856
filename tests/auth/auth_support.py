"""A real herald with auth on (an API key and a JWT secret), and tokens to call it with."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from herald.service import Herald
from herald.sources.memory import MemorySource
from tests.servers import herald_settings, serve_herald

API_KEY = "admin-api-key-0123456789abcdef"
SECRET = "auth-test-secret-of-sufficient-length-32b"


def make_jwt(sub: str = "carol", ttl: float = 300, **claims: Any) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time() + ttl), **claims}, SECRET, "HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(API_KEY)
READ_KEY = "read-only-api-key-0123456789abcdef"


@dataclass
class AuthServer:
    herald: Herald
    source: MemorySource
    url: str
    client: httpx.AsyncClient  # no credentials


@asynccontextmanager
async def auth_server(key_prefix: str, **settings: Any) -> AsyncIterator[AuthServer]:
    """Worker off: nothing polls behind the test's back."""
    source = MemorySource()
    values: dict[str, Any] = {
        "api_keys": [API_KEY],
        "read_api_keys": [READ_KEY],
        "jwt_secret": SECRET,
        **settings,
    }
    async with (
        Herald(herald_settings(key_prefix, **values), sources=[source], worker=False) as herald,
        serve_herald(herald) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        yield AuthServer(herald, source, url, client)
