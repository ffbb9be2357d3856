"""The pipelines one process runs (``herald serve``, ``herald worker``): a runner each.

Every process that declares a pipeline runs a runner for it; the lease lets one of them own
it at a time and the others stand by, taking over within ``HERALD_PIPELINE_LEASE_TTL`` of
the owner's death.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from herald.pipeline.runtime.runner import PipelineRunner
from herald.pipeline.runtime.spec import PipelineSpec
from herald.pipeline.runtime.watermark import PushMarkSource
from herald.store.pipelines import PipelineStore
from herald.store.streams import StreamStore

log = logging.getLogger("herald.pipeline")


class PipelineHost:
    def __init__(
        self,
        specs: Sequence[PipelineSpec],
        store: PipelineStore,
        streams: StreamStore | None,
        *,
        worker_id: str = "",
        batch_size: int = 500,
        lease_ttl: float = 5.0,
        skew: float = 10.0,
        log_maxlen: int = 100_000,
        push: PushMarkSource | None = None,
    ) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self._store = store
        self.runners = [
            PipelineRunner(
                spec,
                store,
                streams,
                worker_id=worker_id,
                batch_size=batch_size,
                lease_ttl=lease_ttl,
                skew=skew,
                lag_limit=max(log_maxlen // 2, 1),
                push=push,
            )
            for spec in specs
        ]
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for spec in self.specs.values():
            await self._store.declare(spec.name, spec.declaration())
            await self._store.ensure_group(spec.name, spec.start)
        for runner in self.runners:
            self._tasks.append(asyncio.create_task(runner.run(), name=f"pipeline-{runner.name}"))
        if self.runners:
            log.info("pipelines running: %s", ", ".join(sorted(self.specs)))

    async def stop(self, grace: float = 5.0) -> None:
        for runner in self.runners:
            runner.stop()
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
