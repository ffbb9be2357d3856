"""Reading what a push stream received, and waiting for it."""

from __future__ import annotations

from typing import Any

from herald.push.runner import ConnectionRunner
from herald.service import Herald
from tests.platforms.feed import TYPE
from tests.waiting import wait_until


async def start(herald: Herald, target: str = "news", **options: Any) -> str:
    body = await herald.manager.create(TYPE, target=target, options=options or None)
    return str(body["id"])


async def history(herald: Herald, stream_id: str) -> list[dict[str, Any]]:
    """Oldest first."""
    return list(reversed(await herald.log.history(stream_id, 1000)))


async def messages(herald: Herald, stream_id: str) -> list[str]:
    """The ``text`` of every message event, oldest first."""
    return [
        e["message"]["data"]["text"]
        for e in await history(herald, stream_id)
        if e["type"] == "stream:message:new"
    ]


async def of_type(herald: Herald, stream_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e for e in await history(herald, stream_id) if e["type"] == event_type]


async def wait_messages(herald: Herald, stream_id: str, count: int, timeout: float = 15) -> None:
    async def enough() -> bool:
        return len(await messages(herald, stream_id)) >= count

    await wait_until(enough, timeout=timeout, what=f"{count} messages on {stream_id}")


async def wait_connected(herald: Herald, timeout: float = 15) -> ConnectionRunner:
    """The runner of this Herald's one connection, once it is connected."""
    assert herald.push is not None

    def connected() -> bool:
        assert herald.push is not None
        return any(r.connected for r in herald.push.runners.values())

    await wait_until(connected, timeout=timeout, what="a connected push runner")
    return next(r for r in herald.push.runners.values() if r.connected)


async def wait_joined(herald: Herald, stream_id: str, timeout: float = 15) -> None:
    """Until this Herald's connection serves ``stream_id`` (a new stream receives what
    arrives from then on)."""

    def joined() -> bool:
        assert herald.push is not None
        return any(r.connected and stream_id in r.serving for r in herald.push.runners.values())

    await wait_until(joined, timeout=timeout, what=f"{stream_id} joined its connection")


async def logged(herald: Herald, stream_id: str) -> list[str]:
    """The ``text`` of every message event of ``stream_id`` in the global log (not capped
    like a stream's history), in log order."""
    out: list[str] = []
    after: str | None = None
    while True:
        bodies = await herald.log.read(after, 1000)
        if not bodies:
            return out
        after = str(bodies[-1]["offset"])
        out.extend(
            b["message"]["data"]["text"]
            for b in bodies
            if b.get("streamId") == stream_id and b["type"] == "stream:message:new"
        )
