"""Running the alerts pipeline in a process that runs a worker (``herald serve``, ``herald
worker``): one :class:`~herald.pipeline.runtime.PipelineRunner`, its lease shared with the
other workers so one evaluates at a time and another takes over when it dies.

It is not one of the ``HERALD_PIPELINES`` (it is not listed under ``/api/pipelines``); its
rules and their states are at ``/api/alerts``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from herald.alerts.pipeline import NAME, AlertsPipeline, RuleBook, alerts_spec
from herald.store.alerts import AlertStore
from herald.store.pipelines import PipelineStore
from herald.store.streams import StreamStore

if TYPE_CHECKING:
    from herald.pipeline.runtime.watermark import PushMarkSource


class AlertsHost:
    def __init__(
        self,
        rules: AlertStore,
        store: PipelineStore,
        streams: StreamStore | None,
        *,
        worker_id: str = "",
        batch_size: int = 500,
        lease_ttl: float = 5.0,
        skew: float = 10.0,
        block: float = 0.25,
        lag_limit: int = 50_000,
        push: PushMarkSource | None = None,
    ) -> None:
        from herald.pipeline.runtime import PipelineRunner

        self.spec = alerts_spec(lambda: AlertsPipeline(RuleBook(rules)))
        self._store = store
        self.runner = PipelineRunner(
            self.spec,
            store,
            streams,
            worker_id=worker_id,
            batch_size=batch_size,
            lease_ttl=lease_ttl,
            skew=skew,
            block=block,
            lag_limit=lag_limit,
            push=push,
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._store.ensure_group(NAME, "$")
        self._task = asyncio.create_task(self.runner.run(), name="alerts-evaluator")

    async def stop(self, grace: float = 5.0) -> None:
        self.runner.stop()
        task, self._task = self._task, None
        if task is None:
            return
        _, late = await asyncio.wait([task], timeout=grace)
        for t in late:
            t.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
