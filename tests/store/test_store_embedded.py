"""The embedded Valkey: start, stop, persistence, crash recovery and sharing, on real servers."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, ResponseError
from store_helpers import Child, valkey_pids_under

from herald.errors import StorageError
from herald.store.embedded import MAX_SOCKET_PATH, EmbeddedRedis
from tests.conftest import exited


async def roundtrip(url: str, command: str, *args: str) -> object:
    client = aioredis.Redis.from_url(url)
    try:
        return await client.execute_command(command, *args)
    finally:
        await client.aclose()


async def test_start_creates_private_dir_and_stop_leaves_nothing_running(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "not" / "yet" / "there"
    caplog.set_level(logging.INFO, logger="herald.store")
    server = EmbeddedRedis(data_dir)

    url = await server.start()

    assert url == f"unix://{data_dir.resolve()}/valkey.sock"
    assert server.url == url
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert await roundtrip(url, "PING") is True
    pid = server.pid
    assert pid is not None and (data_dir / "valkey.pid").read_text().strip() == str(pid)
    assert f"starting embedded Valkey in {data_dir} ..." in caplog.text

    await server.stop()

    assert exited(pid)
    assert not (data_dir / "valkey.pid").exists()
    assert not (data_dir / "valkey.sock").exists()
    with pytest.raises(StorageError):
        _ = server.url


async def test_persistence_is_on_and_only_a_socket_listens(tmp_path: Path) -> None:
    async with EmbeddedRedis(tmp_path) as url:
        client = aioredis.Redis.from_url(url, decode_responses=True)
        try:
            assert await client.config_get("appendonly") == {"appendonly": "yes"}
            assert await client.config_get("appendfsync") == {"appendfsync": "everysec"}
            assert (await client.config_get("save"))["save"] != ""
            assert await client.config_get("port") == {"port": "0"}
        finally:
            await client.aclose()


async def test_data_survives_a_stop_and_start(tmp_path: Path) -> None:
    async with EmbeddedRedis(tmp_path) as url:
        await roundtrip(url, "SET", "kept", "value")
        await roundtrip(url, "XADD", "herald:events", "*", "type", "stream:tweet:new")

    async with EmbeddedRedis(tmp_path) as url:
        assert await roundtrip(url, "GET", "kept") == b"value"
        assert await roundtrip(url, "XLEN", "herald:events") == 1


async def test_long_data_dir_falls_back_to_loopback_tcp_with_a_password(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    assert len(str(deep / "valkey.sock")) > MAX_SOCKET_PATH
    async with EmbeddedRedis(deep) as url:
        assert url.startswith("redis://:") and "@127.0.0.1:" in url
        assert await roundtrip(url, "CONFIG", "GET", "bind") == {b"bind": b"127.0.0.1"}
        port = url.rsplit(":", 1)[1].split("/")[0]
        with pytest.raises((AuthenticationError, ResponseError)):
            await roundtrip(f"redis://127.0.0.1:{port}/0", "GET", "x")
        await roundtrip(url, "SET", "kept", "value")
    async with EmbeddedRedis(deep) as url:
        assert await roundtrip(url, "GET", "kept") == b"value"


async def test_server_left_by_a_killed_process_is_reused_and_then_stopped(
    tmp_path: Path, start_child: Callable[[Path], Child]
) -> None:
    child = start_child(tmp_path)
    child.kill()
    assert not exited(child.server_pid), "the server should outlive its killed parent"

    server = EmbeddedRedis(tmp_path)
    url = await server.start()

    assert url == child.url
    assert server.pid == child.server_pid
    assert await roundtrip(url, "GET", "left-by-child") == b"yes"
    await server.stop()
    assert exited(child.server_pid)
    assert valkey_pids_under(tmp_path) == []


async def test_unresponsive_leftover_is_replaced_without_losing_data(
    tmp_path: Path, start_child: Callable[[Path], Child]
) -> None:
    child = start_child(tmp_path)
    child.kill()
    os.kill(child.server_pid, signal.SIGSTOP)  # alive, but answers nothing

    server = EmbeddedRedis(tmp_path)
    url = await server.start()
    try:
        assert server.pid != child.server_pid
        assert exited(child.server_pid)
        assert await roundtrip(url, "GET", "left-by-child") == b"yes"
        assert await roundtrip(url, "XLEN", "herald:events") == 1
    finally:
        await server.stop()


async def test_stale_pidfile_never_kills_an_unrelated_process(tmp_path: Path) -> None:
    bystander = await asyncio.create_subprocess_exec("sleep", "30")
    try:
        (tmp_path / "valkey.pid").write_text(f"{bystander.pid}\n")
        async with EmbeddedRedis(tmp_path) as url:
            assert await roundtrip(url, "PING") is True
            assert bystander.returncode is None and not exited(bystander.pid)
    finally:
        bystander.kill()
        await bystander.wait()


async def test_two_users_in_one_process_share_one_server(tmp_path: Path) -> None:
    first, second = EmbeddedRedis(tmp_path), EmbeddedRedis(tmp_path)
    url_a, url_b = await asyncio.gather(first.start(), second.start())
    assert url_a == url_b and first.pid == second.pid
    pid = first.pid
    assert pid is not None

    await first.stop()
    assert await roundtrip(url_b, "PING") is True, "stopped while another user still needed it"

    await second.stop()
    assert exited(pid)


async def test_a_running_herald_process_keeps_the_server_up(
    tmp_path: Path, start_child: Callable[[Path], Child]
) -> None:
    child = start_child(tmp_path)

    async with EmbeddedRedis(tmp_path) as url:
        assert url == child.url
        assert await roundtrip(url, "GET", "left-by-child") == b"yes"
    assert not exited(child.server_pid), "the other process still uses it"

    child.kill()
    async with EmbeddedRedis(tmp_path) as url:
        assert await roundtrip(url, "PING") is True
    assert exited(child.server_pid)


async def test_startup_failure_raises_with_the_servers_log(tmp_path: Path) -> None:
    aof = tmp_path / "appendonlydir"
    aof.mkdir()
    (aof / "appendonly.aof.manifest").write_text("not a manifest\n")
    started = time.monotonic()

    with pytest.raises(StorageError, match="exited while starting") as caught:
        await EmbeddedRedis(tmp_path).start()

    assert "manifest" in caught.value.detail.lower()
    assert time.monotonic() - started < 10
    assert not (tmp_path / "valkey.pid").exists()
