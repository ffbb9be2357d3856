"""End to end: ``herald serve`` polling the X stand-in, driven over MCP (HTTP and stdio).

Nothing in process: fakex and herald run as their own commands, as a user would start them,
and tweets are posted through the stand-in's control API.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import EXTERNAL_REDIS_URL, REPO_ROOT
from tests.mcp.mcp_flow import lifecycle
from tests.servers import free_port


async def spawn(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "herald.cli", *args, cwd=REPO_ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def wait_until_up(url: str, proc: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            assert proc.returncode is None, f"{url} exited with {proc.returncode}"
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never came up")


async def end(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@pytest.fixture
async def stack(
    external_redis: object, key_prefix: str, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """(herald URL, fakex URL), both running as processes."""
    fakex_url = f"http://127.0.0.1:{free_port()}"
    fakex = await spawn("fakex", "--port", fakex_url.rsplit(":", 1)[1], env={})
    herald_url = f"http://127.0.0.1:{free_port()}"
    herald = None
    try:
        await wait_until_up(f"{fakex_url}/_fakex/requests", fakex)
        herald = await spawn(
            "serve", "--port", herald_url.rsplit(":", 1)[1],
            env={
                "REDIS_URL": EXTERNAL_REDIS_URL,
                "HERALD_REDIS_PREFIX": key_prefix,
                "HERALD_MIN_INTERVAL": "1",
                "HERALD_X_BASE_URL": fakex_url,
                "HERALD_SESSION_COOKIE": "fakex-session-token",
                "HERALD_SECRET_KEY": "mcp fakex test key",
                "HERALD_DATA_DIR": str(tmp_path),
                "HERALD_API_KEYS": "",
            },
        )  # fmt: skip
        await wait_until_up(f"{herald_url}/api/health", herald)
        yield herald_url, fakex_url
    finally:
        if herald is not None:
            await end(herald)
        await end(fakex)


async def test_agent_follows_tweets_posted_to_the_stand_in(stack: tuple[str, str]) -> None:
    herald_url, fakex_url = stack
    async with httpx.AsyncClient(base_url=fakex_url, timeout=10) as fakex:

        async def post(username: str, text: str) -> str:
            answer = await fakex.post(f"/_fakex/users/{username}/tweets", json={"text": text})
            assert answer.status_code in (200, 201), answer.text
            return str(answer.json()["id"])

        for user in ("fakexhttp", "fakexstdio"):
            created = await fakex.post("/_fakex/users", json={"username": user})
            assert created.status_code in (200, 201), created.text

        async with Client(f"{herald_url}/mcp") as client:
            await lifecycle(client, post, "fakexhttp")

        stdio = StdioServerParameters(
            command=sys.executable,
            args=["-m", "herald.cli", "mcp", "--url", herald_url],
            cwd=str(REPO_ROOT),
        )
        async with Client(stdio) as client:
            await lifecycle(client, post, "fakexstdio")
