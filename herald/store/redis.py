"""The connection to Redis: the embedded server or an external one, checked before use.

herald relies on Redis 7 commands and behaviour (Streams with XAUTOCLAIM, SET ... GET, function
flags), so an older server is refused at connect time with a clear message instead of failing
later in the middle of a poll. Valkey of any version is fine: it forked from Redis 7.2.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from herald.config import Settings
from herald.errors import StorageError
from herald.store.embedded import EmbeddedRedis

log = logging.getLogger("herald.store")

MIN_REDIS_VERSION = (7, 0)
MASK = "***"


class ClosablePool(BlockingConnectionPool):
    """A pool that stays closed once herald closes it.

    redis-py reconnects on demand, so a task that outlives :meth:`Herald.stop` by a moment
    (a follower between two reads) would open a new connection that nobody closes. After
    :meth:`close`, asking for a connection fails with a ``ConnectionError`` instead.
    """

    closed = False

    async def get_connection(self, *args: Any, **options: Any) -> Any:
        if self.closed:
            raise RedisConnectionError("the connection to Redis is closed: herald has stopped")
        # exactly what the caller passed: redis-py warns about arguments it deprecated
        return await super().get_connection(*args, **options)  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        self.closed = True
        await self.disconnect()


class RedisHandle:
    """A checked client, plus the embedded server it runs on (if herald started one)."""

    def __init__(self, client: Redis, url: str, embedded: EmbeddedRedis | None = None) -> None:
        self.client = client
        self.url = url
        self.embedded = embedded
        self._closed = False

    @property
    def display_url(self) -> str:
        """The URL with any password masked: the only form fit for logs and messages."""
        return display_url(self.url)

    async def aclose(self) -> None:
        """Close the client, then stop the embedded server this handle started."""
        if self._closed:
            return
        self._closed = True
        try:
            pool = self.client.connection_pool
            if isinstance(pool, ClosablePool):
                await pool.close()
            await self.client.aclose()
        finally:
            if self.embedded is not None:
                await self.embedded.stop()

    def __repr__(self) -> str:
        return f"RedisHandle({self.display_url!r}, embedded={self.embedded is not None})"


def display_url(url: str) -> str:
    """``url`` with the password (in the userinfo or a ``password=`` query) replaced by ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if has_password else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        masked = [(k, MASK if k.lower() == "password" else v) for k, v in pairs]
        query = urlencode(masked, safe="*")
    # Not urlunsplit: it drops the empty authority of unix:///path.
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    return shown + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def make_client(url: str, *, max_connections: int = 100) -> Redis:
    """A client for herald's use: bytes in and out, a bounded pool, dead links detected.

    There is no socket read timeout: XREAD BLOCK and SAQ's blocking dequeue wait on purpose, and
    a read timeout would cut them off. Keepalive and the health check find dead connections.
    """
    tcp = {} if url.startswith("unix:") else {"socket_keepalive": True}
    pool = ClosablePool.from_url(
        url,
        max_connections=max_connections,
        timeout=10,
        decode_responses=False,
        socket_connect_timeout=5.0,
        socket_timeout=None,
        health_check_interval=30,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=3),
        client_name="herald",
        **tcp,
    )
    return Redis.from_pool(pool)


async def server_info(client: Redis) -> tuple[str, str]:
    """The server's product ("redis" or "valkey") and its version."""
    info = await client.info("server")
    name = str(info.get("server_name") or "redis").lower()
    version = info.get(f"{name}_version") or info.get("redis_version") or "unknown"
    return name, str(version)


def parse_version(version: str) -> tuple[int, ...]:
    """ "7.0.15" -> (7, 0, 15); an unreadable version -> ()."""
    match = re.match(r"\d+(?:\.\d+)*", version.strip())
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def check_version(name: str, version: str, where: str) -> None:
    """Refuse a server herald cannot run on: Redis before 7.0 (Valkey is always fine)."""
    if name == "valkey":
        return
    parsed = parse_version(version)
    if not parsed or parsed < MIN_REDIS_VERSION:
        raise StorageError(
            f"herald needs Redis 7.0 or newer, or Valkey; found {name} {version} at {where}"
        )


async def open_redis(settings: Settings) -> RedisHandle:
    """Connect to the configured Redis, starting the embedded server if none is configured."""
    embedded: EmbeddedRedis | None = None
    if settings.uses_embedded_redis:
        embedded = EmbeddedRedis(settings.data_dir)
        url = await embedded.start()
    else:
        url = settings.external_redis_url()
    client = make_client(url)
    try:
        name, version = await _check(client, url)
    except BaseException:
        await client.aclose()
        if embedded is not None:
            await embedded.stop()
        raise
    log.info("connected to %s %s at %s", name, version, display_url(url))
    return RedisHandle(client, url, embedded)


@asynccontextmanager
async def redis_connection(settings: Settings) -> AsyncIterator[RedisHandle]:
    """``open_redis`` as a context manager: the client is closed and the embedded server stopped."""
    handle = await open_redis(settings)
    try:
        yield handle
    finally:
        await handle.aclose()


async def _check(client: Redis, url: str) -> tuple[str, str]:
    try:
        await client.ping()
        name, version = await server_info(client)
    except (RedisError, OSError) as exc:
        raise StorageError(f"cannot use Redis at {display_url(url)}: {exc}") from exc
    check_version(name, version, display_url(url))
    return name, version
