"""Starting the servers under test, each pinned to the server core, and triggering bursts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from bench.common import BENCH_DIR, SERVER_CORE, Options
from bench.events import peer_body
from bench.procs import Child, Children, free_port, herald_cli, pinned, python_module, wait_http

NODE_DIR = BENCH_DIR / "node"


def herald_env(opts: Options, prefix: str, **extra: str) -> dict[str, str]:
    return {
        "REDIS_URL": opts.redis_url,
        "HERALD_REDIS_PREFIX": prefix,
        "HERALD_API_KEYS": "",
        "HERALD_JWT_SECRET": "",
        **extra,
    }


async def start_herald(
    children: Children, opts: Options, prefix: str, **env: str
) -> tuple[Child, str]:
    """A real ``herald serve --no-worker`` on the server core; returns it and its base URL."""
    port = free_port()
    argv = pinned(SERVER_CORE, herald_cli("serve", "--no-worker", "--port", str(port)))
    child = await children.start("herald serve", argv, env=herald_env(opts, prefix, **env))
    base = f"http://127.0.0.1:{port}"
    await wait_http(base + "/api/health", 60, child)
    return child, base


def event_file(directory: Path) -> Path:
    """The peers' event, written once per run."""
    path = directory / "peer-event.json.tmp"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(peer_body(), separators=(",", ":")))
    return path


def node_missing() -> str | None:
    """Why the Node peer cannot run, or None when it can."""
    if shutil.which("node") is None:
        return "node not found (install Node.js 18+ and run make node-deps)"
    if not (NODE_DIR / "node_modules" / "socket.io").is_dir():
        return "bench/node has no node_modules/socket.io (run make node-deps)"
    return None


async def start_node(children: Children, directory: Path) -> tuple[Child, str]:
    port = free_port()
    node = shutil.which("node") or "node"
    argv = pinned(SERVER_CORE, [node, str(NODE_DIR / "server.mjs"), str(port)])
    argv.append(str(event_file(directory)))
    child = await children.start("node socket.io", argv)
    base = f"http://127.0.0.1:{port}"
    await wait_http(base + "/clients", 30, child)
    return child, base


async def start_wsbroadcast(children: Children, directory: Path) -> tuple[Child, str]:
    port = free_port()
    argv = pinned(
        SERVER_CORE, python_module("bench.wsbroadcast", str(port), str(event_file(directory)))
    )
    child = await children.start("websockets.broadcast", argv)
    base = f"http://127.0.0.1:{port}"
    await wait_http(base + "/burst?n=0", 30, child)
    return child, base


async def peer_burst(base: str, n: int) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        (await client.get(f"{base}/burst", params={"n": n})).raise_for_status()
