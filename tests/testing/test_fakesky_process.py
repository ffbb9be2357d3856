"""``herald fakesky`` as a user runs it: a real process serving the recording and the
control API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
from websockets.asyncio.client import connect

from tests.processes import herald_process
from tests.servers import free_port
from tests.testing.fakesky_support import recorded_frames, recording_dir


async def test_the_command_serves_the_recording_and_the_control_api(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["fakesky", "--port", str(port), "--fixtures", str(recording_dir().parent)]
    env = {"PATH": "/usr/bin:/bin"}
    async with (
        herald_process(args, env, tmp_path / "fakesky.log", f"{base}/_fakesky/requests"),
        httpx.AsyncClient(base_url=base, timeout=10) as control,
    ):
        first = min(f["time_us"] for f in recorded_frames())
        url = f"ws://127.0.0.1:{port}/subscribe?cursor={first}"
        async with connect(url, open_timeout=10) as ws:
            got = [orjson.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(10)]
            assert sorted(f["time_us"] for f in got) == [f["time_us"] for f in got]
            assert {f["time_us"] for f in got} == {f["time_us"] for f in recorded_frames()}
            sent = await control.post("/_fakesky/users/alice.test/posts", json={"text": "live"})
            assert sent.status_code == 201
            live = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            assert live["commit"]["record"]["text"] == "live"
