"""What the embedded server needs from the operating system: processes (alive, whose, how
to stop one), private files written atomically, a free port, and flock(2) locks.

Kept apart from :mod:`herald.store.embedded`, which decides when to start, adopt or replace a
server; nothing here knows about Valkey.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from herald.errors import StorageError

log = logging.getLogger("herald.store")


def alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie (an exited orphan nobody has reaped yet)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # reaps it when herald is its parent (herald as pid 1)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: kill(0) is all there is
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def process_title(pid: int) -> str:
    if Path("/proc/self").exists():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            return cmdline.replace(b"\0", b" ").decode().strip()
        except (OSError, UnicodeDecodeError):
            return ""
    found = subprocess.run(
        ["ps", "-ww", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    return found.stdout.strip()


async def terminate(pid: int, grace: float) -> None:
    """SIGTERM (Valkey saves and exits), then SIGKILL if it has not gone within ``grace`` s."""
    for sig in (signal.SIGTERM, signal.SIGCONT):  # CONT lets a stopped server act on TERM
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    if await gone(pid, grace):
        return
    log.warning("embedded Valkey (pid %d) still running after %.0fs; killing it", pid, grace)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if not await gone(pid, 5.0):
        raise StorageError(f"embedded Valkey (pid {pid}) does not exit")


async def gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def write_pid(path: Path, pid: int) -> None:
    write_private(path, f"{pid}\n")


def write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically to a file only the owner can read."""
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temp, path)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def tail(path: Path, since: int, limit: int = 4000) -> str:
    try:
        with path.open("rb") as file:
            file.seek(since)
            return file.read()[-limit:].decode(errors="replace")
    except OSError:
        return "(no log)"


class Flock:
    """An flock(2) on a file. It belongs to the open file, so two holders in one process still
    exclude each other, and the kernel releases it when the holding process dies."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def try_lock(self, *, exclusive: bool) -> bool:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(self._fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    async def acquire(self, *, patience: float) -> None:
        deadline = time.monotonic() + patience
        while not self.try_lock(exclusive=True):
            if time.monotonic() > deadline:
                raise StorageError(f"timed out after {patience:.0f}s waiting for {self._path}")
            await asyncio.sleep(0.05)

    def close(self) -> None:
        os.close(self._fd)
