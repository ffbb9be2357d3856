"""A webhook receiver on loopback for the tests: records every request, answers as told.

It is plain ASGI under uvicorn (a real socket, real HTTP), so what herald sends is what a
receiver on the network would get. ``plan`` holds the answers to give next (status,
headers, delay, body size); once it is empty every request gets a 200.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from standardwebhooks import Webhook


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    size: int = 0


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.plan: deque[Answer] = deque()
        self.default = Answer()

    @property
    def delivered(self) -> list[Received]:
        """The requests answered with a 2xx, in arrival order."""
        return [r for r in self.requests if 200 <= r.status < 300]

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """The bodies of the delivered requests, each checked with the spec's reference
        verifier (it raises on a bad signature or timestamp)."""
        hook = Webhook(secret)
        out = []
        for r in self.delivered:
            payload = hook.verify(r.body, r.headers)
            assert r.headers["webhook-id"] == payload["eventId"]
            out.append(payload)
        return out

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        answer = self.plan.popleft() if self.plan else self.default
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append(Received(headers, b"".join(chunks), answer.status))
        if answer.delay:
            await asyncio.sleep(answer.delay)  # the receiver being slow, not a test wait
        out = [(k.encode(), v.encode()) for k, v in answer.headers.items()]
        await send({"type": "http.response.start", "status": answer.status, "headers": out})
        body = b"x" * answer.size
        step = 64 * 1024
        for i in range(0, len(body), step):
            await send(
                {"type": "http.response.body", "body": body[i : i + step], "more_body": True}
            )
        await send({"type": "http.response.body", "body": b""})
