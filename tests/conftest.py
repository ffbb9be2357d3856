"""Shared fixtures: real Redis (never a mock), unique key prefixes, the recorded responses."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from herald.store.embedded import EmbeddedRedis
from herald.store.keys import Keys

REPO_ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# The machine's Redis 7; tests use their own key prefix there and delete it afterwards.
EXTERNAL_REDIS_URL = os.environ.get("HERALD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def need(condition: bool, reason: str) -> None:
    """Skip when a test's outside requirement is missing, but fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def fixtures_root() -> Path:
    return Path(os.environ.get("HERALD_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures"))


@pytest.fixture
def fixtures_dir() -> Path:
    """The recorded responses, read in place (they are never copied into the repo)."""
    root = fixtures_root()
    need(root.is_dir(), f"recorded fixtures not found at {root} (set HERALD_FIXTURES)")
    return root


@pytest.fixture
def key_prefix() -> str:
    return f"herald-test-{secrets.token_hex(4)}"


@pytest.fixture
def keys(key_prefix: str) -> Keys:
    return Keys(key_prefix)


async def delete_prefix(client: aioredis.Redis, prefix: str) -> None:
    for pattern in (f"{prefix}:*", f"saq:{prefix}:*", f"saq:job:{prefix}:*"):
        batch: list[bytes] = []
        async for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                await client.delete(*batch)
                batch.clear()
        if batch:
            await client.delete(*batch)


@pytest.fixture
async def external_redis(key_prefix: str) -> AsyncIterator[aioredis.Redis]:
    """A client of the machine's Redis; everything under the test's prefix is deleted after."""
    client = aioredis.from_url(EXTERNAL_REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # pragma: no cover - depends on the machine
        await client.aclose()
        need(False, f"external Redis not reachable at {EXTERNAL_REDIS_URL}: {exc}")
    yield client
    await delete_prefix(client, key_prefix)
    await client.aclose()


@pytest.fixture(scope="session")
def embedded_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One embedded Valkey for the whole session, started in a temp dir and stopped at the end.

    It runs on a private event loop: the server is a separate process and the URL a plain
    string, so no loop-bound object outlives the setup or crosses into a test's loop.
    """
    server = EmbeddedRedis(tmp_path_factory.mktemp("embedded-valkey"))
    loop = asyncio.new_event_loop()
    try:
        url = loop.run_until_complete(server.start())
    finally:
        loop.close()
    pid = server.pid
    yield url
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(server.stop())
    finally:
        loop.close()
    assert pid is not None and exited(pid), f"embedded Valkey (pid {pid}) outlived the session"


def exited(pid: int) -> bool:
    """True if ``pid`` is gone or a zombie (an exited orphan that nobody has reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return False


@pytest.fixture(scope="session", autouse=True)
def no_leaked_valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No Valkey server started under this session's temp dirs may outlive the session."""
    yield
    # with a separator: pytest-5 must not claim the servers of a concurrent pytest-57
    base = str(tmp_path_factory.getbasetemp()).rstrip("/") + "/"
    listing = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,stat=,command="], capture_output=True, text=True, check=True
    ).stdout
    leaked = []
    for line in listing.splitlines():
        pid, state, command = line.split(None, 2)
        if "valkey-server" in command and base in command and not state.startswith("Z"):
            leaked.append(int(pid))
            os.kill(int(pid), signal.SIGKILL)
    assert not leaked, f"Valkey servers outlived the test session: {leaked}"


@pytest.fixture
async def embedded_redis(embedded_redis_url: str, key_prefix: str) -> AsyncIterator[aioredis.Redis]:
    """A client of the session's embedded Valkey; the test's prefix is deleted after."""
    client = aioredis.from_url(embedded_redis_url)
    yield client
    await delete_prefix(client, key_prefix)
    await client.aclose()


@pytest.fixture(params=["embedded", "external"])
def redis(request: pytest.FixtureRequest) -> aioredis.Redis:
    """The Redis for unit tests of Redis-backed code: each such test runs on both backends."""
    client: aioredis.Redis = request.getfixturevalue(f"{request.param}_redis")
    return client


@pytest.fixture(params=["embedded", "external"])
def redis_url(request: pytest.FixtureRequest) -> str:
    """A Redis URL on each backend; the test's key prefix is deleted there afterwards."""
    if request.param == "embedded":
        request.getfixturevalue("embedded_redis")
        return str(request.getfixturevalue("embedded_redis_url"))
    request.getfixturevalue("external_redis")
    return EXTERNAL_REDIS_URL
