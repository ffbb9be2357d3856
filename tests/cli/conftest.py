"""A real herald (uvicorn on a free port, in-memory source, the machine's Redis) for the CLI.

The CLI's HTTP calls are blocking while the server runs on the test's event loop, so each
invocation runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from click.testing import Result
from typer.testing import CliRunner

from herald.cli import app
from herald.config import Settings
from herald.service import Herald
from herald.sources.memory import MemorySource
from herald.sources.rss import RssSource
from tests.servers import herald_settings, serve_herald

Invoke = Callable[..., Awaitable[Result]]


@dataclass
class CliServer:
    herald: Herald
    source: MemorySource
    url: str


async def serve(settings: Settings) -> AsyncIterator[CliServer]:
    source = MemorySource()
    # X's types from memory, and the real RSS source: the server serves the whole catalog
    sources = [source, RssSource.from_settings(settings)]
    async with Herald(settings, sources=sources) as herald, serve_herald(herald) as url:
        yield CliServer(herald, source, url)


@pytest.fixture
async def server(external_redis: object, key_prefix: str) -> AsyncIterator[CliServer]:
    async for running in serve(herald_settings(key_prefix)):
        yield running


def invoker(url: str, **env: str) -> Invoke:
    runner = CliRunner()
    base_env = {"HERALD_URL": url, "HERALD_TOKEN": "", "COLUMNS": "200", **env}

    async def invoke(*args: str, input: str | None = None) -> Result:
        return await asyncio.to_thread(
            runner.invoke, app, list(args), input=input, env=base_env, prog_name="herald"
        )

    return invoke


@pytest.fixture
def cli(server: CliServer) -> Invoke:
    """Run ``herald ARGS...`` against the test server; returns click's Result."""
    return invoker(server.url)
