"""Real ``herald serve`` and ``herald worker`` processes, and waits on what they do."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import REPO_ROOT
from tests.servers import free_port

HERALD = [sys.executable, "-m", "herald.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any herald or Redis setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "REDIS_"))}
    env.update({"PYTHONUNBUFFERED": "1", "COLUMNS": "200", **extra})
    return env


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``herald ARGS`` to completion, in a fresh process."""
    return subprocess.run(
        [*HERALD, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


async def until(probe: Callable[[], Awaitable[Any]], what: str, timeout: float = 60) -> Any:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class HeraldProcess:
    """A herald command running in the background; its stderr goes to a file."""

    args: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*HERALD, *self.args],
            cwd=REPO_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    async def exit_code(self, timeout: float = 60) -> int:
        """Wait for the process to exit (without blocking the event loop)."""
        code = await until(lambda: _returned(self.proc), f"{self.args[0]} to exit", timeout=timeout)
        return int(code[0])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


async def _returned(proc: subprocess.Popen[bytes]) -> tuple[int] | None:
    code = proc.poll()
    return None if code is None else (code,)


@dataclass
class ServeProcess(HeraldProcess):
    """``herald serve`` on a free loopback port."""

    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self, timeout: float = 60) -> None:
        """Until the API answers (or fail with what the process printed)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:

            async def answers() -> bool:
                if self.proc.poll() is not None:
                    raise AssertionError(f"herald serve exited early:\n{self.output}")
                try:
                    return (await client.get("/api/health")).status_code == 200
                except httpx.TransportError:
                    return False

            await until(answers, "herald serve to answer", timeout=timeout)


def start_serve(
    log_path: Path, env: dict[str, str], *extra_args: str, port: int | None = None
) -> ServeProcess:
    port = port or free_port()
    args = ["serve", "--port", str(port), *extra_args]
    return ServeProcess(args, env, log_path, port=port)


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
