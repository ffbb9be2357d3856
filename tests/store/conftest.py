"""Fixtures for the storage tests: killable herald-like processes and a leak check."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest
import redis.asyncio as aioredis
from store_helpers import Child, start_child_process, valkey_pids_under


@pytest.fixture
def start_child() -> Iterator[Callable[[Path], Child]]:
    """Start herald-like child processes; any still running are killed after the test."""
    started: list[subprocess.Popen[str]] = []

    def start(data_dir: Path) -> Child:
        process, child = start_child_process(data_dir)
        started.append(process)
        assert child is not None, f"child did not start (exit {process.poll()})"
        return child

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(autouse=True)
def no_leaked_servers(tmp_path: Path) -> Iterator[None]:
    """Every server a test starts under its tmp_path must be gone when the test ends."""
    yield
    leaked = valkey_pids_under(tmp_path)
    for pid in leaked:
        os.kill(pid, signal.SIGKILL)
    assert not leaked, f"Valkey servers left running: {leaked}"


@pytest.fixture
def external_url(external_redis: aioredis.Redis, request: pytest.FixtureRequest) -> str:
    """``EXTERNAL_REDIS_URL`` of tests/conftest.py; ``external_redis`` has skipped if it is down.

    Every conftest module is named "conftest", so the root one is found among pytest's plugins.
    """
    root = Path(__file__).resolve().parents[1] / "conftest.py"
    for plugin in request.config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "/").resolve() == root:
            return cast(str, plugin.EXTERNAL_REDIS_URL)
    raise LookupError(f"{root} is not loaded")
