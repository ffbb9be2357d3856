"""The seed's module-level API (``createStream``, ``stopStream``...), in Python.

Each function is async and runs on a default :class:`~herald.service.Herald`, started on
first use from the environment (embedded Redis unless ``REDIS_URL``/``REDIS_HOST`` is set)
and stopped by :func:`shutdown`. Call :func:`configure` first to use a Herald of your own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from herald.engine.manager import STREAM_TYPES
from herald.service import Herald
from herald.sources.x import poll_followers, poll_mentions, poll_tweets

__all__ = [
    "STREAM_TYPES",
    "configure",
    "create_stream",
    "get_stream_history",
    "get_stream_stats",
    "get_stream_status",
    "is_healthy",
    "list_streams",
    "pause_stream",
    "poll_followers",
    "poll_mentions",
    "poll_tweets",
    "resume_stream",
    "set_io",
    "shutdown",
    "stop_all_streams",
    "stop_stream",
    "update_stream",
]

_default: Herald | None = None
_lock = asyncio.Lock()
_io_servers: list[Any] = []


def configure(herald: Herald) -> None:
    """Use ``herald`` (started or not) for every function in this module."""
    global _default
    _default = herald


async def _herald() -> Herald:
    global _default
    async with _lock:
        if _default is None:
            _default = Herald()
        herald = _default
        await herald.start()
        if herald.delivery is not None:
            for server in _io_servers:
                herald.delivery.set_io(server)
            _io_servers.clear()
        return herald


async def create_stream(
    type: str,
    username: str,
    interval: float = 60,
    auth_token: str | None = None,
    user_id: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Start a stream. Returns ``{id, type, username, status, interval (ms), ...}``."""
    herald = await _herald()
    return await herald.manager.create(
        type, username, interval, auth_token=auth_token, user_id=user_id, options=options or None
    )


async def stop_stream(stream_id: str) -> dict[str, Any]:
    """Stop and remove a stream: ``{success, streamId}``."""
    return await (await _herald()).manager.stop(stream_id)


async def stop_all_streams() -> dict[str, int]:
    """``{stopped, failed, total}``."""
    return await (await _herald()).manager.stop_all()


async def pause_stream(stream_id: str) -> dict[str, Any]:
    return await (await _herald()).manager.pause(stream_id)


async def resume_stream(stream_id: str) -> dict[str, Any]:
    return await (await _herald()).manager.resume(stream_id)


async def update_stream(stream_id: str, **updates: Any) -> dict[str, Any]:
    """Change ``interval``, ``auth_token`` or ``options``; effective from the next poll."""
    return await (await _herald()).manager.update(stream_id, **updates)


async def list_streams() -> list[dict[str, Any]]:
    return await (await _herald()).manager.list_streams()


async def get_stream_status(stream_id: str) -> dict[str, Any]:
    return await (await _herald()).manager.status(stream_id)


async def get_stream_history(stream_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """Recent events, newest first."""
    return await (await _herald()).manager.history(stream_id, limit)


async def get_stream_stats() -> dict[str, Any]:
    return await (await _herald()).manager.stats()


async def is_healthy() -> bool:
    return await (await _herald()).is_healthy()


def set_io(server: Any) -> None:
    """Also emit every event to this python-socketio ``AsyncServer`` (the seed's setIO)."""
    herald = _default
    if herald is not None and herald.delivery is not None:
        herald.delivery.set_io(server)
    else:
        _io_servers.append(server)


async def shutdown() -> None:
    """Stop the default Herald gracefully: in-flight polls finish, nothing half-written."""
    global _default
    async with _lock:
        if _default is not None:
            await _default.stop()
            _default = None
