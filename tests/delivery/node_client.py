"""Drive tests/node/recovery_client.mjs: the npm socket.io-client, dropped on command."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import need

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


class NodeClient:
    """One socket.io-client process; every line it prints is parsed and kept in order."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, url: str, transports: str, mode: str = "auto") -> NodeClient:
        node = shutil.which("node")
        need(node is not None, "node not installed")
        need(
            (NODE_DIR / "node_modules" / "socket.io-client").is_dir(),
            "tests/node/node_modules missing (run `make node-deps`)",
        )
        assert node is not None
        proc = await asyncio.create_subprocess_exec(
            node,
            str(NODE_DIR / "recovery_client.mjs"),
            url,
            transports,
            mode,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=NODE_DIR,
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            if line.strip():
                self.lines.append(orjson.loads(line))
                self._changed.set()
        self._changed.set()

    @property
    def events(self) -> list[str]:
        return [line["event"] for line in self.lines if "event" in line]

    @property
    def connects(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if "connect" in line]

    async def until(self, predicate: Any, timeout: float = 30.0) -> None:
        """Wait (on the client's output, never on a clock) until ``predicate()`` holds."""
        async with asyncio.timeout(timeout):
            while not predicate():
                if self._reader.done():
                    raise AssertionError(f"client exited: {self.lines[-5:]}")
                self._changed.clear()
                await self._changed.wait()

    async def command(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()
