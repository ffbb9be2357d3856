"""A herald worker process for the push takeover tests: Settings from the environment, the
test feed platform, its frames read over a real WebSocket from ``TEST_FEED_URL``. Prints
``ready {worker id}`` and runs until SIGTERM (or dies by SIGKILL, on purpose)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from herald.config import Settings
from herald.push.replay import FeedSocketSource
from herald.service import Herald
from herald.sources import catalog
from tests.platforms.feed import TYPE


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings()
    source = FeedSocketSource(os.environ["TEST_FEED_URL"], stream_types=(TYPE,))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    with catalog.platform("tests.platforms.feed"):
        async with Herald(settings, sources=[source], delivery=False) as herald:
            assert herald.push is not None
            print(f"ready {herald.push.worker_id}", flush=True)
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
