"""A herald worker process for the multi-process tests: Settings from the environment,
the Redis-backed test source, runs until SIGTERM (or dies by SIGKILL, on purpose)."""

from __future__ import annotations

import asyncio
import os
import signal

from herald.config import Settings
from herald.service import Herald
from tests.engine.redis_source import RedisTestSource


async def main() -> None:
    settings = Settings()
    source = RedisTestSource(
        settings.external_redis_url(),
        settings.redis_prefix,
        delay=float(os.environ.get("TEST_SOURCE_DELAY", "0")),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with Herald(settings, sources=[source], delivery=False):
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
