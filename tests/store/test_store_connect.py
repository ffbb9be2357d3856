"""Connecting to storage: embedded or external, version check, errors, and masked URLs."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from herald.config import Settings
from herald.errors import StorageError
from herald.store.redis import (
    RedisHandle,
    check_version,
    display_url,
    make_client,
    open_redis,
    parse_version,
    redis_connection,
    server_info,
)
from tests.conftest import exited

SECRET = "s3cret-Pa55"


def embedded_settings(data_dir: Path) -> Settings:
    return Settings(redis_url=None, redis_host=None, data_dir=data_dir)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"redis://:{SECRET}@db.example:6379/0", "redis://:***@db.example:6379/0"),
        (f"redis://herald:{SECRET}@db.example/2", "redis://herald:***@db.example/2"),
        (f"rediss://{SECRET}@db.example:6380", "rediss://***@db.example:6380"),
        (
            f"unix:///run/redis.sock?db=1&password={SECRET}",
            "unix:///run/redis.sock?db=1&password=***",
        ),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("unix:///tmp/herald/valkey.sock", "unix:///tmp/herald/valkey.sock"),
    ],
)
def test_display_url_masks_the_password(url: str, shown: str) -> None:
    assert display_url(url) == shown
    assert SECRET not in display_url(url)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("7.0.15", (7, 0, 15)),
        ("6.2.14", (6, 2, 14)),
        ("7.2", (7, 2)),
        ("255.255.255", (255, 255, 255)),
        ("x", ()),
    ],
)
def test_parse_version(text: str, parsed: tuple[int, ...]) -> None:
    assert parse_version(text) == parsed


@pytest.mark.parametrize(
    ("name", "version"),
    [("redis", "7.0.0"), ("redis", "7.4.2"), ("valkey", "7.2.5"), ("valkey", "9.1.2")],
)
def test_version_check_accepts_redis_7_and_any_valkey(name: str, version: str) -> None:
    check_version(name, version, "redis://db.example:6379/0")


@pytest.mark.parametrize(
    ("name", "version"), [("redis", "6.2.14"), ("redis", "5.0.7"), ("redis", "?")]
)
def test_version_check_refuses_older_redis(name: str, version: str) -> None:
    with pytest.raises(StorageError) as caught:
        check_version(name, version, "redis://db.example:6379/0")
    assert caught.value.detail == (
        f"herald needs Redis 7.0 or newer, or Valkey; found {name} {version} "
        "at redis://db.example:6379/0"
    )


async def test_external_redis_from_url(external_url: str) -> None:
    async with redis_connection(Settings(redis_url=external_url)) as handle:
        assert handle.embedded is None
        assert handle.url == external_url
        assert await handle.client.ping() is True
        name, version = await server_info(handle.client)
        assert name in {"redis", "valkey"} and parse_version(version) >= (7, 0)


async def test_external_redis_from_host_and_port(external_url: str) -> None:
    parts = urlsplit(external_url)
    assert parts.hostname and parts.port
    settings = Settings(
        redis_url=None,
        redis_host=parts.hostname,
        redis_port=parts.port,
        redis_password=parts.password,
    )
    handle = await open_redis(settings)
    try:
        assert handle.url.endswith(
            f"@{parts.hostname}:{parts.port}/0"
            if parts.password
            else f"//{parts.hostname}:{parts.port}/0"
        )
        await handle.client.set("herald-test-connect", b"\xff\x00")
        assert await handle.client.get("herald-test-connect") == b"\xff\x00"  # bytes, undecoded
        await handle.client.delete("herald-test-connect")
    finally:
        await handle.aclose()


async def test_unreachable_server_fails_fast_naming_the_masked_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        await open_redis(Settings(redis_url=f"redis://:{SECRET}@127.0.0.1:1/0"))
    assert time.monotonic() - started < 5
    assert "redis://:***@127.0.0.1:1/0" in caught.value.detail
    assert isinstance(caught.value.__cause__, RedisError | OSError)
    assert SECRET not in caught.value.detail and SECRET not in caplog.text


async def test_wrong_credentials_are_a_storage_error_without_the_password(
    external_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    where = urlsplit(external_url).netloc.rsplit("@", 1)[-1]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StorageError) as caught:
        await open_redis(Settings(redis_url=f"redis://no-such-user:{SECRET}@{where}/0"))
    assert f"redis://no-such-user:***@{where}/0" in caught.value.detail
    assert SECRET not in str(caught.value) and SECRET not in caplog.text


async def test_embedded_when_no_external_is_configured(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="herald.store")
    handle = await open_redis(embedded_settings(tmp_path / "data"))
    assert handle.embedded is not None
    pid = handle.embedded.pid
    assert pid is not None
    assert handle.url.startswith("unix://") and handle.display_url == handle.url
    assert await handle.client.ping() is True
    assert await server_info(handle.client) == ("valkey", "9.1.2")
    assert "connected to valkey 9.1.2" in caplog.text

    await handle.aclose()
    await handle.aclose()  # idempotent
    assert exited(pid)


async def test_handle_repr_hides_the_password() -> None:
    client = make_client(f"redis://:{SECRET}@127.0.0.1:1/0")
    handle = RedisHandle(client, f"redis://:{SECRET}@127.0.0.1:1/0")
    assert SECRET not in repr(handle) and "***" in handle.display_url
    await handle.aclose()


async def test_redis_fixture_runs_on_both_backends(
    redis: aioredis.Redis, key_prefix: str, request: pytest.FixtureRequest
) -> None:
    name, _ = await server_info(redis)
    expected = {"embedded": "valkey", "external": "redis"}[request.node.callspec.params["redis"]]
    assert name == expected
    await redis.xadd(f"{key_prefix}:events", {"type": "stream:tweet:new"})
    assert await redis.xlen(f"{key_prefix}:events") == 1
