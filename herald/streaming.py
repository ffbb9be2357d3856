"""The seed's module-level API (``createStream``, ``stopStream``...), in Python.

Each function is async and runs on a default :class:`~herald.service.Herald`, started on
first use from the environment (embedded Redis unless ``REDIS_URL``/``REDIS_HOST`` is set)
and stopped by :func:`shutdown`. Call :func:`configure` first to use a Herald of your own.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from herald.engine.manager import STREAM_TYPES
from herald.service import Herald
from herald.sources.x import poll_followers, poll_mentions, poll_tweets

if TYPE_CHECKING:
    from herald.browser import PooledBrowser, PooledPage, Session

__all__ = [
    "STREAM_TYPES",
    "acquire_browser",
    "acquire_page",
    "close_all_browsers",
    "configure",
    "create_stream",
    "get_browser_pool_status",
    "get_stream_history",
    "get_stream_stats",
    "get_stream_status",
    "is_healthy",
    "list_streams",
    "pause_stream",
    "poll_followers",
    "poll_mentions",
    "poll_tweets",
    "release_browser",
    "release_page",
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


# --- the browser pool (the seed's acquireBrowser, ..., getBrowserPoolStatus) -----------------
async def acquire_browser() -> PooledBrowser:
    """A pooled browser with a free page slot (``acquireBrowser``); give it back with
    :func:`release_browser`."""
    return await (await _herald()).browser_pool.acquire_browser()


async def release_browser(browser: PooledBrowser) -> None:
    """``releaseBrowser``: the browser may now be retired or closed when idle."""
    await (await _herald()).browser_pool.release_browser(browser)


async def acquire_page(browser: PooledBrowser, session: Session | None = None) -> PooledPage:
    """``acquirePage``: a page in ``browser`` (``.page`` is the Playwright page), in the
    context of ``session``'s account, with images, media and fonts blocked."""
    return await (await _herald()).browser_pool.acquire_page(browser, session)


async def release_page(page: PooledPage) -> None:
    """``releasePage``: close the page and count it against the browser's retirement."""
    await (await _herald()).browser_pool.release_page(page)


async def close_all_browsers() -> None:
    """``closeAllBrowsers``: close every pooled browser (the pool starts again on demand)."""
    await (await _herald()).browser_pool.close_all()


async def get_browser_pool_status() -> dict[str, Any]:
    """``getBrowserPoolStatus``: what ``GET /api/browser-pool`` answers."""
    return (await _herald()).browser_pool.status()
