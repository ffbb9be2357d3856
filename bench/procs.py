"""Child processes: pinned to a core, driven by JSON lines, always killed on the way out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(core: str | None, argv: Sequence[str]) -> list[str]:
    """``taskset -c core argv`` when taskset exists (it execs, so the pid stays the same)."""
    if core is not None and shutil.which("taskset"):
        return ["taskset", "-c", core, *argv]
    return list(argv)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def herald_cli(*args: str) -> list[str]:
    """The ``herald`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("herald")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from herald.cli import main; main()", *args]


def rss_kb(pid: int) -> int:
    """Resident set size of a process, from /proc (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (and its reaped children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


class Child:
    """A child process in its own process group; ``kill`` takes the whole group down."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.proc = proc

    @classmethod
    async def start(
        cls,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        control: bool = False,
        quiet: bool = True,
    ) -> Child:
        """Start ``argv``; with ``control`` its stdin/stdout are JSON-line pipes."""
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if control else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if control else asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL if quiet else None,
            env=full_env,
            cwd=ROOT,
            start_new_session=True,
            limit=64 * 1024 * 1024,
        )
        return cls(name, proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        await self.proc.stdin.drain()

    async def receive(self, timeout: float) -> dict[str, Any]:
        """The next JSON line from the child; a dead child or a timeout is an error."""
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"{self.name} exited (code {self.proc.returncode})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    async def ask(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        await self.send(message)
        return await self.receive(timeout)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                await self.proc.wait()


class Children:
    """Every child a scenario starts; ``async with`` kills them all on exit, even on error."""

    def __init__(self) -> None:
        self.items: list[Child] = []

    async def start(self, name: str, argv: Sequence[str], **kwargs: Any) -> Child:
        child = await Child.start(name, argv, **kwargs)
        self.items.append(child)
        return child

    async def stop(self, child: Child) -> None:
        await child.kill()
        if child in self.items:
            self.items.remove(child)

    async def __aenter__(self) -> Children:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for child in reversed(self.items):
            await child.kill()
        self.items.clear()


async def wait_http(url: str, timeout: float = 30.0, child: Child | None = None) -> None:
    """Poll ``url`` until it answers 2xx (the server is up) or ``timeout`` passes."""
    import httpx

    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if child is not None and child.proc.returncode is not None:
                raise RuntimeError(f"{child.name} exited early (code {child.proc.returncode})")
            try:
                if (await client.get(url)).is_success:
                    return
            except httpx.HTTPError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{url} did not come up within {timeout:g}s")
            await asyncio.sleep(0.1)
