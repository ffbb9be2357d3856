"""The official Socket.IO protocol suite against herald's Socket.IO stack.

The suite (mocha) lives outside the repository; it is copied to a temporary directory for
each run, its dependencies come from tests/node (``make node-deps``). The only change to
the copy is its server URL: a free loopback port instead of localhost:3000, so runs cannot
collide.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import orjson
import pytest

from herald.delivery.direct import uvicorn_options
from tests.conformance.conformance_app import conformance_app
from tests.conftest import need
from tests.servers import serve_asgi

pytestmark = [pytest.mark.node, pytest.mark.timeout(240)]

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "socket.io-protocol"
NODE_MODULES = Path(__file__).resolve().parents[1] / "node" / "node_modules"
#: What stock python-socketio 5.18.1 passes of the suite's 32 tests.
STOCK_PASSES = 24
HERALDS_OWN = (
    "Socket.IO protocol disconnect should disconnect from the main namespace",
    "Socket.IO protocol connect should disallow connection to an unknown namespace",
)


def suite_dir() -> Path:
    found = SUITE
    need((found / "test-suite-nolose.js").is_file(), "the Socket.IO protocol suite is missing")
    need(shutil.which("node") is not None, "node not installed")
    need(
        (NODE_MODULES / "mocha").is_dir(), "tests/node/node_modules missing (run `make node-deps`)"
    )
    return found


async def test_herald_passes_the_socketio_protocol_suite(tmp_path: Path) -> None:
    source = suite_dir()
    (tmp_path / "node_modules").symlink_to(NODE_MODULES)
    mocha = NODE_MODULES / "mocha" / "bin" / "mocha"
    app = conformance_app()
    async with serve_asgi(app, lifespan="off", **uvicorn_options()) as url:
        for name in ("test-suite-nolose.js", "node-imports.js", "package.json"):
            text = (source / name).read_text()
            if name == "test-suite-nolose.js":
                assert '"http://localhost:3000"' in text
            text = text.replace('"http://localhost:3000"', '"' + url + '"')
            (tmp_path / name).write_text(text)
        proc = await asyncio.create_subprocess_exec(
            str(shutil.which("node")),
            str(mocha),
            "--reporter",
            "json",
            "test-suite-nolose.js",
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 200)
    report = orjson.loads(out[out.index(b"{") :])
    passed = {t["fullTitle"] for t in report["passes"]}
    failed = {t["fullTitle"]: t["err"].get("message", "") for t in report["failures"]}
    summary = "\n".join(f"FAIL {title}: {why[:120]}" for title, why in sorted(failed.items()))
    assert report["stats"]["tests"] == 32, summary
    assert len(passed) >= STOCK_PASSES, summary
    for title in HERALDS_OWN:
        assert title in passed, summary
