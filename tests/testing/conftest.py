"""The X stand-in for its own tests: in-process (ASGI transport) and on a real loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from herald.testing.fakex import create_app
from tests.testing.fakex_support import Gql, graphql, serve, session_client


@pytest.fixture
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client with a valid session."""
    async with session_client("http://fakex.test", httpx.ASGITransport(app=app)) as c:
        yield c


@pytest.fixture
async def gql(client: httpx.AsyncClient) -> Gql:
    async def call(operation: str, **variables: Any) -> httpx.Response:
        return await graphql(client, operation, **variables)

    return call


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    async with serve(app) as url:
        yield url


@pytest.fixture
def recorded_app(fixtures_dir: Path) -> FastAPI:
    return create_app(fixtures_dir / "x")


@pytest.fixture
async def recorded(recorded_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with session_client("http://fakex.test", httpx.ASGITransport(app=recorded_app)) as c:
        yield c
