"""A real herald (auth on, in-memory source, the machine's Redis) whose commands service is
:class:`MemoryCommands`, and the tokens the entry points are tried with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from herald.service import Herald
from herald.sources.memory import MemorySource
from tests.auth.auth_support import ADMIN, API_KEY, SECRET, bearer, make_jwt
from tests.entrypoints.memory_commands import MemoryCommands
from tests.servers import herald_settings, serve_herald

__all__ = ["ADMIN", "API_KEY", "SECRET", "TOKENS", "CommandServer", "command_server", "token"]

#: Every kind of caller that may NOT write, and one that may (besides the API key).
REFUSED_KINDS = ("restricted", "read-only", "restricted-empty")


def token(kind: str) -> str:
    """A credential of ``kind``: see docs/auth.md."""
    if kind == "admin-key":
        return API_KEY
    if kind == "admin-jwt":
        return make_jwt(admin=True)
    if kind == "writer":
        return make_jwt(scope="read commands")
    if kind == "read-only":  # every stream, no write scope
        return make_jwt()
    if kind == "restricted":
        return make_jwt(streams=["s1"])
    if kind == "restricted-empty":
        return make_jwt(streams=[])
    raise ValueError(kind)


TOKENS = {kind: token for kind in ("admin-key", "writer", *REFUSED_KINDS)}


@dataclass
class CommandServer:
    herald: Herald
    commands: MemoryCommands
    url: str
    client: httpx.AsyncClient  # the API key

    def ws_url(self, kind: str | None = "admin-key") -> str:
        base = self.url.replace("http://", "ws://") + "/ws"
        return base if kind is None else f"{base}?token={token(kind)}"


@asynccontextmanager
async def command_server(key_prefix: str, **settings: Any) -> AsyncIterator[CommandServer]:
    values: dict[str, Any] = {"api_keys": [API_KEY], "jwt_secret": SECRET, **settings}
    commands = MemoryCommands()
    async with Herald(
        herald_settings(key_prefix, **values), sources=[MemorySource()], worker=False
    ) as herald:
        herald.commands = commands
        async with (
            serve_herald(herald) as url,
            httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=10) as client,
        ):
            yield CommandServer(herald, commands, url, client)


def headers(kind: str | None) -> dict[str, str]:
    return {} if kind is None else bearer(token(kind))
