"""The processes a chaos scenario runs: the X stand-in, ``herald serve`` and ``herald worker``.

Each runs in its own process group with its stderr kept in the scenario's temp dir, so a
kill -9 takes the whole process down (as a crash would) and a failure can be read after.
``Stack`` kills everything it started on the way out, whatever happened, including the
embedded Valkey that ``herald serve`` starts outside its own process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, progress
from bench.procs import free_port, herald_cli, wait_http

# herald's storage and auth settings that a scenario always sets itself.
_CLEARED = ("REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "HERALD_API_KEYS")


class Proc:
    """One child process in its own group, stderr copied to a file, a line awaited on start."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.name, self.proc, self.log = name, proc, log
        self._lines: asyncio.Queue[str] = asyncio.Queue()
        self._pump = asyncio.create_task(self._copy())

    @classmethod
    async def start(cls, name: str, argv: Sequence[str], env: dict[str, str], log: Path) -> Proc:
        full = {k: v for k, v in os.environ.items() if k not in _CLEARED}
        full.update({"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **env})
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=full,
            cwd=ROOT,
            start_new_session=True,
        )
        return cls(name, proc, log)

    async def _copy(self) -> None:
        assert self.proc.stderr is not None
        with self.log.open("ab") as out:
            while line := await self.proc.stderr.readline():
                out.write(line)
                out.flush()
                self._lines.put_nowait(line.decode(errors="replace"))

    async def wait_line(self, needle: str, timeout: float) -> None:
        """Wait until the process writes a stderr line containing ``needle``."""
        async with asyncio.timeout(timeout):
            while True:
                line = await self._lines.get()
                if needle in line:
                    return

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    async def kill9(self) -> None:
        """SIGKILL the whole group, as a crash or an OOM kill would, and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()
        await self._pump

    async def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the group; SIGKILL it if it is still there after ``grace`` seconds."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), grace)
            except TimeoutError:
                progress("chaos", f"{self.name} ignored SIGTERM for {grace:g}s; killing it")
        await self.kill9()


class Stack:
    """A temp dir, the stand-in, and any number of herald processes, all torn down on exit."""

    def __init__(self, env: dict[str, str]) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="herald-chaos-")
        self.dir = Path(self._tmp.name)
        self.env = dict(env)
        self.procs: list[Proc] = []
        self.fakex = ""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._count = 0

    async def __aenter__(self) -> Stack:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            await proc.kill9()
            if exc[0] is not None:  # the scenario failed: show what each process said last
                progress("chaos", f"{proc.name} (pid {proc.proc.pid}) stderr:\n{self.tail(proc)}")
        await self._stop_embedded()
        with contextlib.suppress(OSError):
            self._tmp.cleanup()

    async def _spawn(self, name: str, argv: Sequence[str], env: dict[str, str]) -> Proc:
        self._count += 1
        log = self.dir / f"{self._count:03d}-{name.replace(' ', '-')}.log"
        proc = await Proc.start(name, argv, {**self.env, **env}, log)
        self.procs.append(proc)
        return proc

    async def start_fakex(self) -> str:
        port = free_port()
        proc = await self._spawn("fakex", herald_cli("fakex", "--port", str(port)), {})
        self.fakex = f"http://127.0.0.1:{port}"
        self.env["HERALD_X_BASE_URL"] = self.fakex
        await _wait_up(self.fakex + "/_fakex/faults", proc)
        return self.fakex

    async def start_fakesky(self) -> str:
        """The Bluesky stand-in (Jetstream with cursor replay, handles, profiles)."""
        port = free_port()
        proc = await self._spawn("fakesky", herald_cli("fakesky", "--port", str(port)), {})
        base = f"http://127.0.0.1:{port}"
        self.env["HERALD_JETSTREAM_URL"] = f"ws://127.0.0.1:{port}/subscribe"
        self.env["HERALD_BSKY_API_URL"] = base
        await _wait_up(base + "/_fakesky/requests", proc)
        return base

    async def start_serve(self, *args: str, timeout: float = 60) -> Proc:
        """``herald serve`` on the stack's fixed port (a restart keeps the clients' URL)."""
        argv = herald_cli("serve", "--port", str(self.port), *args)
        proc = await self._spawn("herald serve", argv, {})
        await _wait_up(self.base + "/api/health", proc, timeout)
        return proc

    async def start_worker(self, timeout: float = 60) -> Proc:
        proc = await self._spawn("herald worker", herald_cli("worker"), {})
        await _wait_line(proc, "polling for", timeout)
        return proc

    async def start_process(
        self, name: str, argv: Sequence[str], env: dict[str, str], ready: str, timeout: float = 30
    ) -> Proc:
        """Any other child (a receiver, say), ready once its stderr says ``ready``."""
        proc = await self._spawn(name, argv, env)
        await _wait_line(proc, ready, timeout)
        return proc

    async def kill9(self, proc: Proc) -> None:
        await proc.kill9()
        self.procs.remove(proc)

    async def _stop_embedded(self) -> None:
        """The embedded Valkey outlives a killed ``herald serve``: end it by its pid file."""
        pid_file = Path(self.env.get("HERALD_DATA_DIR", self.dir / "none")) / "valkey.pid"
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().strip())
            await _end(pid)

    def tail(self, proc: Proc, lines: int = 20) -> str:
        """The end of a process's stderr, for an error message."""
        with contextlib.suppress(OSError):
            return "\n".join(proc.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


async def _wait_up(url: str, proc: Proc, timeout: float = 60) -> None:
    try:
        await _unless_dead(proc, wait_http(url, timeout))
    except TimeoutError:
        raise RuntimeError(f"{proc.name} did not answer at {url} within {timeout:g}s") from None


async def _wait_line(proc: Proc, needle: str, timeout: float) -> None:
    await _unless_dead(proc, proc.wait_line(needle, timeout))


async def _unless_dead(proc: Proc, waiting: Coroutine[Any, Any, None]) -> None:
    """Await ``waiting``; if the process exits first, that is the error."""
    waiter = asyncio.create_task(waiting)
    died = asyncio.create_task(proc.proc.wait())
    error: BaseException | None = None
    try:
        await asyncio.wait({waiter, died}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Both tasks end here, even when the caller is cancelled mid-wait (a killer task
        # stopped while it starts a worker): an abandoned waiter would time out later
        # with nobody to read its error.
        early = not waiter.done()
        died.cancel()
        waiter.cancel()
        await asyncio.wait({waiter, died})
        if not waiter.cancelled():
            error = waiter.exception()
    if early:
        raise RuntimeError(f"{proc.name} exited early (code {proc.proc.returncode})")
    if error is not None:
        raise error


async def _end(pid: int, grace: float = 5.0) -> None:
    """SIGTERM a process that is not our child, wait on its pidfd, SIGKILL after ``grace``."""
    fd = os.pidfd_open(pid)
    try:
        exited = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_reader(fd, exited.set)
        os.kill(pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(exited.wait(), grace)
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
        finally:
            loop.remove_reader(fd)
    finally:
        os.close(fd)


def herald_env(**extra: str) -> dict[str, str]:
    """herald's settings for a chaos run: the stand-in, short intervals, no auth."""
    return {
        "HERALD_SESSION_COOKIE": "chaos-session",
        "HERALD_MIN_INTERVAL": "1",
        "HERALD_POLL_TIMEOUT": "5",
        "HERALD_JWT_SECRET": "",
        **extra,
    }


async def api(base: str, method: str, path: str, **kwargs: Any) -> Any:
    """One REST call; a 4xx/5xx is an error with herald's ``detail``."""
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.request(method, base + path, **kwargs)
    if answer.is_error:
        raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
    return answer.json()
