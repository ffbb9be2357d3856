"""herald's own commands as real subprocesses (``herald serve``, ``herald fakex``) on loopback."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

HERALD_BIN = str(Path(sys.executable).with_name("herald"))


async def wait_until_up(url: str, proc: asyncio.subprocess.Process, timeout: float) -> None:
    """Until ``url`` answers (any status); fails at once if the process exits."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            assert proc.returncode is None, f"{url}: the process exited ({proc.returncode})"
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise AssertionError(f"{url} did not come up within {timeout:g}s")


@asynccontextmanager
async def herald_process(
    args: list[str], env: dict[str, str], log: Path, ready: str, *, timeout: float = 40
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``herald <args>`` with its output in ``log``, up once ``ready`` answers; SIGINT after."""
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            HERALD_BIN, *args, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        try:
            await wait_until_up(ready, proc, timeout)
            yield proc
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
