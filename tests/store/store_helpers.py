"""Helpers for the storage tests: a killable herald-like process, and process checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

# A stand-in for a herald process: it starts the embedded server, writes a key and an event,
# reports the URL and the server's pid, then waits to be killed.
CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    import redis.asyncio as aioredis
    from herald.store.embedded import EmbeddedRedis

    async def main() -> None:
        server = EmbeddedRedis(Path(sys.argv[1]))
        url = await server.start()
        client = aioredis.Redis.from_url(url)
        await client.set("left-by-child", "yes")
        await client.xadd("herald:events", {"type": "stream:tweet:new"})
        await client.aclose()
        print(url, server.pid, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


@dataclass
class Child:
    process: subprocess.Popen[str]
    url: str
    server_pid: int

    def kill(self) -> None:
        """SIGKILL: no cleanup runs, as when herald crashes or is OOM-killed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def valkey_pids_under(path: Path) -> list[int]:
    """Live (non-zombie) Valkey servers whose config lies under ``path``."""
    listing = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,stat=,command="], capture_output=True, text=True, check=True
    ).stdout
    pids = []
    for line in listing.splitlines():
        pid, stat, command = line.strip().split(None, 2)
        if "valkey-server" in command and str(path) in command and not stat.startswith("Z"):
            pids.append(int(pid))
    return pids


def start_child_process(data_dir: Path) -> tuple[subprocess.Popen[str], Child | None]:
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert process.stdout is not None
    line = process.stdout.readline().split()
    if len(line) != 2:
        return process, None
    return process, Child(process, line[0], int(line[1]))
