"""A scripted HTTP peer for client tests: answers from a queue and records every request.

The X stand-in covers the faults X actually shows; this peer covers the exact bytes of
rarer answers (error codes 326, 64, 353, redirects) that need no world behind them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

OK_USER = {
    "data": {
        "user": {
            "result": {
                "__typename": "User",
                "rest_id": "42",
                "core": {"screen_name": "alice", "name": "Alice"},
                "legacy": {"followers_count": 7, "screen_name": "alice", "name": "Alice"},
            }
        }
    }
}


@dataclass
class Answer:
    status: int = 200
    body: Any = field(default_factory=lambda: OK_USER)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""


class Script:
    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.seen: list[Seen] = []
        self.ct0 = "csrf-from-server"

    def then(self, *answers: Answer) -> Script:
        self.answers.extend(answers)
        return self

    async def handle(self, request: Request) -> Response:
        params, headers = dict(request.query_params), dict(request.headers)
        body = await request.body()
        self.seen.append(Seen(request.method, request.url.path, params, headers, body))
        if request.url.path.endswith("/account/settings.json"):
            response = JSONResponse({"errors": [{"code": 353, "message": "csrf"}]}, 403)
            if "auth_token=" in request.headers.get("cookie", "") and self.ct0:
                response.headers.append("set-cookie", f"ct0={self.ct0}; Domain=.x.com; Path=/")
            return response
        answer = self.answers.pop(0) if self.answers else Answer()
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.raw is not None:
            return Response(answer.raw, answer.status, headers=answer.headers)
        return JSONResponse(answer.body, answer.status, headers=answer.headers)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])
