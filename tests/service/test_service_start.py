"""Every way ``herald serve`` can end before or while starting leaves no embedded server
behind, and an empty host listens on loopback only."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from tests.conftest import exited
from tests.service.support import clean_env, read_pid, run_cli, start_serve, until
from tests.store.store_helpers import valkey_pids_under

pytestmark = pytest.mark.timeout(180)


def one_error_line(stderr: str) -> str:
    """The one ``error:`` line, last on stderr (after herald's and uvicorn's log lines)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], stderr
    return errors[0]


async def test_sigterm_while_starting_still_stops_the_embedded_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_serve(tmp_path / "serve.log", clean_env(HERALD_DATA_DIR=str(data_dir)))
    try:

        async def valkey_started() -> int | None:
            return read_pid(data_dir / "valkey.pid")

        pid = await until(valkey_started, "the embedded Valkey to start")
        server.signal(signal.SIGTERM)  # herald is still starting: the API does not answer yet
        assert await server.exit_code() == 0, server.output
        assert exited(pid), "SIGTERM during startup orphaned the embedded Valkey"
        assert valkey_pids_under(tmp_path) == []
    finally:
        server.close()


def test_failed_start_stops_the_embedded_server(tmp_path: Path) -> None:
    """The cookie key file is read after the storage started: an empty one stops the start."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    (data_dir / "secret.key").write_text("")
    env = clean_env(HERALD_DATA_DIR=str(data_dir))
    done = run_cli("serve", "--port", "0", env=env)
    assert done.returncode == 1, done.stderr
    line = one_error_line(done.stderr)
    assert "secret.key" in line and "is empty" in line
    assert valkey_pids_under(tmp_path) == [], "a failed start left the embedded Valkey running"
    assert not (data_dir / "valkey.pid").exists()


def test_a_taken_port_fails_at_once_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = clean_env(HERALD_DATA_DIR=str(tmp_path / "data"))
        done = run_cli("serve", "--port", str(port), env=env)
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert done.stderr.count("\n") == 1, "nothing else starts before the port is taken"
    assert f"cannot listen on 127.0.0.1:{port}" in line
    assert valkey_pids_under(tmp_path) == []


def test_a_port_out_of_range_is_one_line(tmp_path: Path) -> None:
    done = run_cli("serve", "--port", "70000", env=clean_env(HERALD_DATA_DIR=str(tmp_path)))
    assert done.returncode == 1
    assert "cannot listen on 127.0.0.1:70000" in one_error_line(done.stderr)
    assert done.stderr.count("\n") == 1


def listeners(port: int) -> list[str]:
    """The local addresses listening on TCP ``port``, read from the kernel's tables."""
    found: list[str] = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                assert len(address) == width
                found.append(_address(address))
    return found


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    # The kernel prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, words)


@pytest.mark.parametrize("host", ["", " "], ids=["empty", "blank"])
async def test_an_empty_host_listens_on_loopback_only(tmp_path: Path, host: str) -> None:
    env = clean_env(HERALD_DATA_DIR=str(tmp_path / "data"))
    server = start_serve(tmp_path / "serve.log", env, "--host", host)
    try:
        await server.ready()
        assert listeners(server.port) == ["127.0.0.1"]
        assert "serving on http://127.0.0.1:" in server.output
        server.signal(signal.SIGTERM)
        assert await server.exit_code() == 0, server.output
    finally:
        server.close()
