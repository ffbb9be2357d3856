"""``herald serve`` as a real subprocess on a loopback port, with its RSS and its stderr.

For the tests that measure the server's memory or feed it hostile input: the server must
be its own process, so its RSS is its own and a crash or a traceback flood shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import EXTERNAL_REDIS_URL, REPO_ROOT
from tests.servers import free_port


@dataclass
class Served:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def rss(self) -> int:
        """The server process's resident set size, in bytes."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS for the server process")

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    async def healthy(self) -> bool:
        async with httpx.AsyncClient(timeout=10) as http:
            return (await http.get(f"{self.url}/api/health")).status_code == 200


@contextlib.asynccontextmanager
async def serve_subprocess(prefix: str, log: Path, **env: str) -> AsyncIterator[Served]:
    """``herald serve --no-worker`` on the machine's Redis under ``prefix``; ``env`` adds
    settings. Stopped with SIGTERM (then SIGKILL) when the block ends."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "REDIS_"))}
    environ.update(REDIS_URL=EXTERNAL_REDIS_URL, HERALD_REDIS_PREFIX=prefix, **env)
    proc = _spawn(port, environ, log)
    served = Served(f"http://127.0.0.1:{port}", port, proc, log)
    try:
        await _wait_up(served)
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _spawn(port: int, environ: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "herald.cli", "serve", "--no-worker", "--port", str(port)],
            cwd=REPO_ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip


async def _wait_up(served: Served, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            if served.proc.poll() is not None:
                raise AssertionError(f"herald serve exited:\n{served.stderr()[-2000:]}")
            try:
                await http.get(f"{served.url}/api/health")
                return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "herald serve did not come up"
            await asyncio.sleep(0.1)
