"""End to end, as a user runs it: ``herald fakesky`` and ``herald serve`` as processes,
streams of every Bluesky type started over REST, a seeded mix of changes on the stand-in,
and a ``kill -9`` of herald with changes made while it is down: every stream's history
holds exactly what the frames hold for it, each once."""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from herald.testing.fakesky import records
from tests.conftest import EXTERNAL_REDIS_URL
from tests.processes import herald_process
from tests.servers import free_port
from tests.sources.bsky.support import expected_changes
from tests.testing.fakesky_support import recording_dir
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
DID_A = records.did_for("alice.test")
CHANGES = {
    "stream:post:new",
    "stream:post:deleted",
    "stream:mention:new",
    "stream:follower:new",
    "stream:follower:lost",
}
OTHERS = ["bob.test", "carol.test", "dave.test", "erin.test"]


class Sky:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.following: set[str] = set()
        self.mine: list[str] = []

    async def call(self, method: str, path: str, **body: Any) -> Any:
        answer = await self.client.request(method, f"/_fakesky{path}", json=body or None)
        assert answer.status_code < 300, (path, answer.text)
        return answer.json()

    async def workload(self, rng: random.Random, steps: int) -> None:
        for i in range(steps):
            who, roll = rng.choice(OTHERS), rng.random()
            if roll < 0.25:
                text = rng.choice(["hello", "about herald", "HERALD news"])
                sent = await self.call("POST", "/users/alice.test/posts", text=f"{text} {i}")
                self.mine.append(sent["rkey"])
            elif roll < 0.45:
                text = rng.choice(["hi", "herald?"])
                await self.call("POST", "/users/alice.test/mentions", by=who, text=f"{text} {i}")
            elif roll < 0.6:
                await self.call("POST", f"/users/{who}/posts", text=rng.choice(["Herald", "x"]))
            elif roll < 0.85:
                if who in self.following:
                    await self.call("DELETE", f"/users/alice.test/followers/{who}")
                    self.following.discard(who)
                else:
                    await self.call("POST", "/users/alice.test/followers", follower=who)
                    self.following.add(who)
            elif self.mine:
                rkey = self.mine.pop(rng.randrange(len(self.mine)))
                await self.call("DELETE", f"/users/alice.test/posts/{rkey}")


def _object_id(event: dict[str, Any]) -> str:
    event_id: str = event["eventId"]
    return event_id.split(":", 1)[1].rsplit("@", 1)[0]


async def test_every_type_end_to_end_across_a_kill(
    external_redis: object, key_prefix: str, tmp_path: Path
) -> None:
    sky_port, port = free_port(), free_port()
    sky_url, url = f"http://127.0.0.1:{sky_port}", f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REDIS_URL": EXTERNAL_REDIS_URL,
        "HERALD_REDIS_PREFIX": key_prefix,
        "HERALD_DATA_DIR": str(tmp_path / "data"),
        "HERALD_JETSTREAM_URL": f"ws://127.0.0.1:{sky_port}/subscribe",
        "HERALD_BSKY_API_URL": sky_url,
        "HERALD_PUSH_LEASE_TTL": "2",
        "HERALD_PUSH_CHECK_INTERVAL": "0.5",
    }
    serve = ["serve", "--port", str(port)]
    rng = random.Random(14)
    fixtures = str(recording_dir().parent)
    async with (
        herald_process(
            ["fakesky", "--port", str(sky_port), "--fixtures", fixtures],
            env,
            tmp_path / "fakesky.log",
            f"{sky_url}/_fakesky/requests",
        ),
        httpx.AsyncClient(base_url=sky_url, timeout=10) as sky_client,
        httpx.AsyncClient(base_url=url, timeout=10) as api,
    ):
        sky = Sky(sky_client)
        await sky.call("POST", "/users", handle="dave.test")
        await sky.call("POST", "/users", handle="erin.test")
        await sky.call("POST", "/users", handle="frank.test")

        async def history(stream: str) -> list[dict[str, Any]]:
            answer = await api.get(f"/api/streams/{stream}/history", params={"limit": 1000})
            assert answer.status_code == 200, answer.text
            return [e for e in answer.json()["events"] if e["type"] in CHANGES]

        async with herald_process(serve, env, tmp_path / "serve1.log", f"{url}/api/health") as p1:
            ids: dict[str, str] = {}
            for label, kind, target in (
                ("p", "bsky:post", "alice.test"),
                ("m", "bsky:mention", DID_A),
                ("f", "bsky:follower", "@Alice.Test"),
                ("q", "bsky:search", "herald"),
            ):
                answer = await api.post("/api/streams/start", json={"type": kind, "target": target})
                assert answer.status_code in (200, 201), answer.text
                ids[label] = answer.json()["id"]
            # probes until every stream reports: the connection serves all four
            await sky.call("POST", "/users/alice.test/followers", follower="frank.test")
            await sky.call("POST", "/users/alice.test/mentions", by="frank.test", text="herald")
            await sky.call("POST", "/users/alice.test/posts", text="probe")

            async def all_report() -> bool:
                return all([await history(sid) for sid in ids.values()])

            await wait_until(all_report, 60, what="every stream reporting")
            marker = (await sky.call("POST", "/users/frank.test/posts", text="go"))["time_us"]
            await sky.workload(rng, 60)
            p1.send_signal(signal.SIGKILL)
            await p1.wait()
        await sky.workload(rng, 60)  # while herald is down
        end = (await sky.call("POST", "/users/frank.test/posts", text="end"))["time_us"]
        kept = (await sky_client.get("/_fakesky/frames", params={"since": marker})).json()
        expected = expected_changes(kept["frames"], DID_A)
        assert len({e[0] for e in expected}) == 4
        later = {f"{f['did']}/{f['commit']['rkey']}" for f in kept["frames"] if "commit" in f}
        label_of = {sid: label for label, sid in ids.items()}

        async def reported() -> list[tuple[str, str, str]]:
            out = []
            for sid, label in label_of.items():
                for event in await history(sid):
                    if _object_id(event) in later:
                        out.append((label, event["type"], _object_id(event)))
            return out

        async with herald_process(serve, env, tmp_path / "serve2.log", f"{url}/api/health"):
            await wait_until(
                lambda: _complete(reported, len(expected)), 90, what="everything reported"
            )
            got = await reported()
            assert sorted(got) == sorted(expected), "exactly the frames' changes"
            assert len(got) == len(set(got)), "each once"
            every = [e["eventId"] for sid in ids.values() for e in await history(sid)]
            assert len(every) == len(set(every))
            assert end > marker


async def _complete(reported: Any, count: int) -> bool:
    return len(await reported()) >= count
