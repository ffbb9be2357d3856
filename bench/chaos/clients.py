"""Reconnecting clients for the storm: npm socket.io-client processes, ``/ws`` and SSE.

Each keeps the offsets it received, in order of receipt, and reconnects after every
``drop()`` the way a real client would after a network cut: Socket.IO on its own (with the
seed's code or with ``subscribe {since}``), ``/ws`` with ``since`` = its last offset, SSE
with ``Last-Event-ID``. ``Progress`` is notified on every receipt so the scenario can wait
for a condition on all clients at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
from typing import Any

import httpx
import orjson
import websockets

from bench.common import BENCH_DIR, ROOT

NODE_CLIENT = BENCH_DIR / "node" / "storm_client.mjs"
WS_REQUESTED = "events:stream:v1:requested"
RETRY = 0.1


class Progress:
    """One condition shared by every client: 'something was received'."""

    def __init__(self) -> None:
        self.changed = asyncio.Condition()

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()


class Client:
    """What every storm client shares: its name, what it received, how often it reconnected."""

    def __init__(self, name: str, progress: Progress, drop_nth: int | None = None) -> None:
        self.name = name
        self.progress = progress
        self.offsets: list[str] = []
        self.reconnects = 0
        self.recovered = 0
        self.ready = asyncio.Event()
        #: What happened to the connection, and how many receipts there were by then.
        self.marks: list[tuple[int, str]] = []
        self._drop_nth = drop_nth  # a deliberately broken client discards this receipt
        self._seen = 0

    async def got(self, offset: str) -> None:
        self._seen += 1
        if self._seen != self._drop_nth:
            self.offsets.append(offset)
        await self.progress.notify()

    async def start(self) -> None:
        raise NotImplementedError

    async def drop(self) -> None:
        raise NotImplementedError

    async def end(self) -> None:
        raise NotImplementedError


def node_missing() -> str | None:
    if shutil.which("node") is None:
        return "node not found (install Node.js 18+ and run make node-deps)"
    if not (BENCH_DIR / "node" / "node_modules" / "socket.io-client").is_dir():
        return "bench/node has no node_modules/socket.io-client (run make node-deps)"
    return None


class NodeClient(Client):
    """``bench/node/storm_client.mjs``: the npm socket.io-client, driven over stdin."""

    def __init__(
        self, progress: Progress, base: str, transports: str, mode: str, since: str
    ) -> None:
        super().__init__(f"socket.io {mode} ({transports})", progress)
        self.argv = [shutil.which("node") or "node", str(NODE_CLIENT), base, transports, mode]
        self.argv.append(since if mode == "subscribe" else "")
        self.proc: asyncio.subprocess.Process | None = None
        self._done = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=ROOT,
            start_new_session=True,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            msg: dict[str, Any] = json.loads(line)
            if "o" in msg:
                await self.got(str(msg["o"]))
            elif "c" in msg:
                kind = "recovered" if msg.get("r") else "not recovered"
                self.marks.append((len(self.offsets), f"connect {msg['c']} ({kind})"))
            elif "u" in msg:
                self.marks.append((len(self.offsets), f"upgrade to {msg['u']}"))
            elif msg.get("ready"):
                self.ready.set()
            elif msg.get("done"):
                self.reconnects = int(msg["reconnects"])
                self.recovered = int(msg["recovered"])
                self._done.set()

    async def _say(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        with contextlib.suppress(ConnectionError):
            self.proc.stdin.write(line.encode() + b"\n")
            await self.proc.stdin.drain()

    async def drop(self) -> None:
        await self._say("drop")

    async def end(self) -> None:
        if self.proc is None:
            return
        await self._say("end")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), 10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


class _Looping(Client):
    """A client whose connection runs in a task that ``drop`` cancels and the loop restarts."""

    def __init__(self, name: str, progress: Progress, since: str, **kw: Any) -> None:
        super().__init__(name, progress, **kw)
        self.last = since
        self._loop: asyncio.Task[None] | None = None
        self._conn: asyncio.Task[None] | None = None
        self._connects = 0
        self._ending = False

    async def start(self) -> None:
        self._loop = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self._ending:
            self._conn = asyncio.create_task(self._session())
            try:
                await self._conn
            except asyncio.CancelledError:
                continue  # dropped on purpose (or ending): reconnect at once
            except (OSError, websockets.WebSocketException, httpx.HTTPError):
                pass
            await asyncio.sleep(RETRY)  # the server closed or refused: pace the retries

    async def _session(self) -> None:
        raise NotImplementedError

    async def got(self, offset: str) -> None:
        self.last = offset
        await super().got(offset)

    def connected(self) -> None:
        """A (re)connect the server accepted: counted, and the first one makes it ready."""
        self._connects += 1
        self.reconnects = self._connects - 1
        self.ready.set()

    async def drop(self) -> None:
        if self._conn is not None:
            self._conn.cancel()

    async def end(self) -> None:
        self._ending = True
        for task in (self._conn, self._loop):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


class WsClient(_Looping):
    """herald's ``/ws``: ``requested {since}`` after every (re)connect."""

    def __init__(self, progress: Progress, base: str, since: str, **kw: Any) -> None:
        super().__init__("/ws since", progress, since, **kw)
        self.url = base.replace("http://", "ws://") + "/ws"

    async def _session(self) -> None:
        async with websockets.connect(self.url, max_size=None) as ws:
            payload = {"since": self.last}
            await ws.send(orjson.dumps({"type": WS_REQUESTED, "id": "chaos", "payload": payload}))
            async for raw in ws:
                msg = orjson.loads(raw)
                if msg.get("type") == "events:stream:v1:started":
                    self.connected()
                elif msg.get("type") == "events:stream:v1:stream":
                    await self.got(str(msg["payload"]["offset"]))


class SseClient(_Looping):
    """SSE at ``/api/events``: ``Last-Event-ID`` after every (re)connect."""

    def __init__(self, progress: Progress, base: str, since: str, **kw: Any) -> None:
        super().__init__("SSE Last-Event-ID", progress, since, **kw)
        self.url = base + "/api/events"

    async def _session(self) -> None:
        headers = {"Last-Event-ID": self.last}
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
            client.stream("GET", self.url, headers=headers) as answer,
        ):
            answer.raise_for_status()
            offset = kind = None
            async for line in answer.aiter_lines():
                if line.startswith("id: "):
                    offset = line[4:]
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line == "":
                    if kind == "subscribed":
                        self.connected()
                    elif offset and kind not in (None, "error"):
                        await self.got(offset)
                    offset = kind = None
