"""The ground truth: users and tweets on the X stand-in, and herald's streams that watch them.

Every tweet posted through ``Poster`` is recorded with the wall-clock time just before its
POST; that record is what herald's log is counted against.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx

from bench.chaos.stack import api

BASELINE_POLL = 0.25  # how often the streams' status is read while waiting for baselines


class World:
    def __init__(self, fakex: str, herald: str, users: int, tag: str) -> None:
        self.fakex, self.herald = fakex, herald
        self.users = [f"{tag}{i:02d}" for i in range(users)]
        self.streams: dict[str, str] = {}  # stream id -> username
        self.posted: dict[str, float] = {}  # tweet id -> time just before the POST
        self.by_user: dict[str, int] = dict.fromkeys(self.users, 0)

    async def create(self, interval: float) -> None:
        """The users on the stand-in, and one tweet stream each, with its own session."""
        for user in self.users:
            await api(self.fakex, "POST", "/_fakex/users", json={"username": user})
            await api(self.fakex, "POST", f"/_fakex/users/{user}/tweets", json={"text": "before"})
        for user in self.users:
            body = {"type": "tweet", "username": user, "interval": interval}
            body["authToken"] = f"chaos-{user}"  # a rate budget of its own on the stand-in
            stream = await api(self.herald, "POST", "/api/streams/start", json=body)
            self.streams[str(stream["id"])] = user

    async def wait_baselines(self, timeout: float) -> None:
        """Until every stream has polled once (its baseline); posting before would not count."""
        async with asyncio.timeout(timeout):
            while True:
                listing = await api(self.herald, "GET", "/api/streams")
                polled = {s["id"] for s in listing["streams"] if int(s.get("polls") or 0) > 0}
                if set(self.streams) <= polled:
                    return
                await asyncio.sleep(BASELINE_POLL)

    async def post(self, client: httpx.AsyncClient, user: str, text: str) -> str:
        t = time.time()
        answer = await client.post(f"{self.fakex}/_fakex/users/{user}/tweets", json={"text": text})
        answer.raise_for_status()
        tweet_id = str(answer.json()["id"])
        self.posted[tweet_id] = t
        self.by_user[user] += 1
        return tweet_id

    async def post_at(self, rate: float, seconds: float, rng: random.Random) -> int:
        """Post ``rate`` tweets a second to random users for ``seconds`` (paced, bounded)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        total = int(rate * seconds)
        async with httpx.AsyncClient(timeout=10) as client:
            for n in range(total):
                await self.post(client, rng.choice(self.users), f"chaos tweet {n}")
                delay = start + (n + 1) / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)  # pacing the load, not waiting for anything
        return total

    async def burst(self, user: str, n: int) -> list[str]:
        async with httpx.AsyncClient(timeout=10) as client:
            return [await self.post(client, user, f"burst {i} of {n}") for i in range(n)]

    def summary(self) -> dict[str, Any]:
        return {"users": len(self.users), "streams": len(self.streams), "posted": len(self.posted)}
