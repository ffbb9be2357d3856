"""herald (auth on, writes on, a worker for the reconciler) acting on a real X stand-in,
both served on loopback in this process, with the real commands service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from herald.service import Herald
from herald.testing.fakex.app import create_app as create_fakex
from tests.auth.auth_support import ADMIN, API_KEY, SECRET
from tests.servers import herald_settings, serve_asgi, serve_herald

ALICE_TOKEN = "a11ce0000000000000000000000000000000a11c"
"""A synthetic session token; the stand-in writes as @alice for it."""


@dataclass
class Stack:
    herald: Herald
    url: str
    api: httpx.AsyncClient  # herald's REST API, with the API key
    fakex: httpx.AsyncClient  # the stand-in's control API

    async def requests(self) -> dict[str, int]:
        counts: dict[str, int] = (await self.fakex.get("/_fakex/requests")).json()["operations"]
        return counts

    async def bob_tweet(self, text: str) -> str:
        answer = await self.fakex.post("/_fakex/users/bob/tweets", json={"text": text})
        answer.raise_for_status()
        return str(answer.json()["id"])

    async def fault(self, **body: Any) -> None:
        (await self.fakex.post("/_fakex/faults", json=body)).raise_for_status()


@asynccontextmanager
async def fakex_stack(key_prefix: str, tmp_path: Path, **extra: Any) -> AsyncIterator[Stack]:
    async with (
        serve_asgi(create_fakex()) as fakex_url,
        httpx.AsyncClient(base_url=fakex_url, timeout=20) as fakex,
    ):
        session = {"authToken": ALICE_TOKEN, "username": "alice"}
        (await fakex.post("/_fakex/sessions", json=session)).raise_for_status()
        settings = herald_settings(
            key_prefix,
            api_keys=[API_KEY],
            jwt_secret=SECRET,
            x_base_url=fakex_url,
            x_transaction_id=False,
            session_cookie=ALICE_TOKEN,
            secret_key="entry points test key",
            data_dir=tmp_path,
            poll_timeout=1,
            enable_writes=True,
            write_limit_minute=1000,
            write_limit_hour=10_000,
            write_limit_day=100_000,
            command_reconcile_interval=0.2,
            **extra,
        )
        async with (
            Herald(settings, worker=True) as herald,
            serve_herald(herald) as url,
            httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=30) as api,
        ):
            yield Stack(herald, url, api, fakex)
