"""Helpers for the X stand-in's tests: a complete session client, GraphQL calls, a live server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from tests.servers import serve_asgi

AUTH_TOKEN = "fakex-test-session"
CT0 = "c0ffee" * 8
Gql = Callable[..., Awaitable[httpx.Response]]


def session_client(
    base_url: str, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """A client holding a complete session: auth_token and ct0 cookies, the csrf header."""
    headers = {"x-csrf-token": CT0, "authorization": "Bearer anything"}
    cookies = {"auth_token": AUTH_TOKEN, "ct0": CT0}
    return httpx.AsyncClient(
        base_url=base_url, transport=transport, headers=headers, cookies=cookies, timeout=10
    )


async def graphql(client: httpx.AsyncClient, operation: str, **variables: Any) -> httpx.Response:
    params = {"variables": json.dumps(variables), "features": json.dumps({"f": True})}
    return await client.get(f"/i/api/graphql/qid123/{operation}", params=params)


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """``app`` under uvicorn on a free loopback port, for the duration of the block."""
    async with serve_asgi(app, ws="none") as url:
        yield url
