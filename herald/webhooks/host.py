"""The webhook deliverers of one process (where a worker runs): a consumer per enabled
endpoint, and one tail of the log that wakes them.

Every process that runs a host runs a consumer for every enabled endpoint; each endpoint's
lease lets one of them deliver at a time and the others stand by, taking over within
``HERALD_WEBHOOKS_LEASE_TTL`` of the owner's death. The host reloads the endpoints when
their version counter moves (an edit restarts that endpoint's consumer with the new
settings; it resumes at the committed offset).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson
from redis.exceptions import RedisError

from herald.webhooks.consumer import Consumer, Context

log = logging.getLogger("herald.webhooks")


class WebhookHost:
    def __init__(self, ctx: Context, *, check_interval: float = 0.5) -> None:
        self._ctx = ctx
        self._check = check_interval
        self._tick = asyncio.Event()
        self.consumers: dict[str, tuple[bytes, Consumer, asyncio.Task[None]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    def wake(self) -> asyncio.Event:
        """The event the next log append sets (take it before reading, then wait on it)."""
        return self._tick

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._watch(), name="webhooks-watch"),
            asyncio.create_task(self._tail(), name="webhooks-tail"),
        ]

    async def _tail(self) -> None:
        reader = self._ctx.log
        end = "0-0"
        while not self._stopping.is_set():
            try:
                if end == "0-0":
                    end = await reader.end()
                got = await reader.wait(end, 100, 1000)
            except (RedisError, OSError) as exc:
                log.warning("webhooks: the log tail failed (%s); retrying", exc)
                await asyncio.sleep(0.5)
                continue
            if got:
                end = got[-1].offset
                fired, self._tick = self._tick, asyncio.Event()
                fired.set()

    async def _watch(self) -> None:
        seen = -1
        while not self._stopping.is_set():
            try:
                version = await self._ctx.store.version()
                if version != seen:
                    await self._reload()
                    seen = version
            except (RedisError, OSError) as exc:
                log.warning("webhooks: cannot read endpoints (%s); retrying", exc)
            if self._reap():
                seen = -1  # a consumer ended on its own: look again
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._check)

    async def _reload(self) -> None:
        wanted = {
            str(e["id"]): e for e in await self._ctx.store.endpoints() if e.get("enabled", True)
        }
        for endpoint_id, (stamp, _consumer, _task) in list(self.consumers.items()):
            endpoint = wanted.get(endpoint_id)
            if endpoint is None or orjson.dumps(endpoint) != stamp:
                await self._end(endpoint_id)
        for endpoint_id, endpoint in wanted.items():
            if endpoint_id not in self.consumers:
                consumer = Consumer(endpoint, self._ctx, self.wake)
                task = asyncio.create_task(consumer.run(), name=f"webhook-{endpoint_id}")
                self.consumers[endpoint_id] = (orjson.dumps(endpoint), consumer, task)

    def _reap(self) -> bool:
        """Forget consumers that ended by themselves (an endpoint they disabled, a bug)."""
        reaped = False
        for endpoint_id, (_stamp, _consumer, task) in list(self.consumers.items()):
            if task.done():
                del self.consumers[endpoint_id]
                reaped = True
                if not task.cancelled() and task.exception() is not None:
                    log.error("webhook %s stopped: %r", endpoint_id, task.exception())
        return reaped

    async def _end(self, endpoint_id: str) -> None:
        _stamp, consumer, task = self.consumers.pop(endpoint_id)
        consumer.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def stop(self) -> None:
        self._stopping.set()
        for endpoint_id in list(self.consumers):
            await self._end(endpoint_id)
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
