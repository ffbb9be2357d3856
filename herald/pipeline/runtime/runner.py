"""Running one pipeline on the global log: lease, read, process, commit, repeat.

Several workers may run the same pipeline; one at a time owns it through a lease (a key
with a PX expiry, renewed while it runs). Why a lease and not key partitioning: a
pipeline's state (windows, per-key aggregates, its watermark) spans every key, and its
outputs must come out in one deterministic order, so splitting it across workers would need
a shuffle and a merge herald does not have. One owner per pipeline keeps the state in one
place; different pipelines spread over workers.

The owner restores the last committed state into a fresh pipeline, takes over every entry
pending in the group (``XAUTOCLAIM``: a dead owner's batch), re-reads those first and then
new entries. After each batch it commits state, ack, dead letters and outputs in one script
that checks the lease (see :mod:`herald.store.pipelines`). Reads are fenced by the lease as
well, so a worker that lost it neither reads nor commits. A crash before the commit leaves
nothing behind; a crash after it leaves nothing to redo: outputs are neither lost nor doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from redis.exceptions import RedisError

from herald.events import EventType, event_id, utc_now_iso
from herald.pipeline.core import Output, Pipeline, PipelineStateError, Record
from herald.pipeline.marks import ScopedPipeline
from herald.pipeline.runtime.spec import PipelineSpec, output_event_id
from herald.pipeline.runtime.watermark import PushMarkSource, Watermarks
from herald.store.pipelines import Fenced, Pending, PipelineStore
from herald.store.streams import StreamStore

log = logging.getLogger("herald.pipeline")


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)


def encode_output(pipeline: str, out: Output) -> Pending:
    """The ``pipeline:output`` event of one output; its eventId derives from the output key."""
    eid = output_event_id(pipeline, out.key)
    body = {
        "type": EventType.PIPELINE_OUTPUT.value,
        "eventId": eid,
        "streamId": f"pipeline:{pipeline}",
        "platform": "herald",
        "pipeline": pipeline,
        "output": out.name,
        "data": dict(out.data),
        "time": out.time,
        "detectedAt": utc_now_iso(),
    }
    return Pending(eid, EventType.PIPELINE_OUTPUT.value, _dumps(body))


def error_event(pipeline: str, kind: str, occurrence: str, message: str) -> Pending:
    """A ``pipeline:error`` event; one per (kind, occurrence), however often it is raised."""
    eid = event_id(EventType.PIPELINE_ERROR, f"{kind}.{occurrence}", f"pipeline:{pipeline}")
    body = {
        "type": EventType.PIPELINE_ERROR.value,
        "eventId": eid,
        "streamId": f"pipeline:{pipeline}",
        "platform": "herald",
        "pipeline": pipeline,
        "error": {"kind": kind, "message": message},
        "detectedAt": utc_now_iso(),
    }
    return Pending(eid, EventType.PIPELINE_ERROR.value, _dumps(body))


def decode_entries(entries: Sequence[tuple[str, bytes | None]]) -> tuple[list[Record], int]:
    """Records of the log entries read, and how many had been trimmed away meanwhile."""
    records, trimmed = [], 0
    for offset, body in entries:
        if body is None:
            trimmed += 1
            continue
        event = orjson.loads(body)
        event["offset"] = offset
        records.append(Record.of(offset, event))
    return records, trimmed


class PipelineRunner:
    """Keeps one pipeline running in this process for as long as it can own it."""

    def __init__(
        self,
        spec: PipelineSpec,
        store: PipelineStore,
        streams: StreamStore | None,
        *,
        worker_id: str = "",
        batch_size: int = 500,
        lease_ttl: float = 5.0,
        block: float = 1.0,
        lag_limit: int = 50_000,
        skew: float = 10.0,
        stats_every: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        push: PushMarkSource | None = None,
    ) -> None:
        self.spec = spec
        self._push = push
        self.name = spec.name
        self._store = store
        self._streams = streams
        self.owner = f"{worker_id or 'w'}:{uuid.uuid4().hex[:12]}"
        self._batch = batch_size
        self._ttl = lease_ttl
        self._block_ms = max(int(block * 1000), 1)
        self._lag_limit = lag_limit
        self._skew = skew
        self._stats_every = stats_every
        self._monotonic = monotonic
        self._stopping = asyncio.Event()
        self.owning = False
        self.batches = 0
        self._counts = {"in": 0, "out": 0, "late": 0, "skipped": 0}
        self._stats_at = monotonic()
        self._stats_counts = dict(self._counts)
        self._pipeline: Pipeline | None = None
        self._watermark: float | None = None

    def stop(self) -> None:
        self._stopping.set()

    async def _rest(self, seconds: float) -> None:
        """Wait ``seconds`` or until stopped, whichever is first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # --- the outer loop: own the pipeline whenever the lease can be had -------------------
    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    if not await self._store.acquire(self.name, self.owner, self._ttl):
                        await self._rest(self._ttl / 3)
                        continue
                    await self._own()
                except Fenced:
                    log.warning("pipeline %s: lease lost; another worker owns it now", self.name)
                except (RedisError, OSError) as exc:
                    log.warning("pipeline %s: storage error: %s", self.name, exc)
                    await self._rest(1.0)
                except PipelineStateError as exc:  # e.g. state that cannot be encoded
                    with contextlib.suppress(RedisError, OSError):
                        await self._state_error(exc)
                except Exception as exc:  # a bug must not end the runner for good
                    log.exception(
                        "pipeline %s: batch failed; retrying from the last commit", self.name
                    )
                    with contextlib.suppress(RedisError, OSError):
                        await self._store.set_fields(
                            self.name, {"lastFailure": f"{type(exc).__name__}: {exc}"[:500]}
                        )
                    await self._rest(1.0)
                finally:
                    self.owning = False
        finally:
            with contextlib.suppress(RedisError, OSError, RuntimeError):
                await self._store.release(self.name, self.owner)

    async def _renew(self) -> None:
        while not self._stopping.is_set():
            await self._rest(self._ttl / 3)
            if not await self._store.renew(self.name, self.owner, self._ttl):
                return  # lapsed or taken: the next read or commit is fenced

    async def _own(self) -> None:
        self.owning = True
        renew = asyncio.create_task(self._renew(), name=f"pipeline-lease-{self.name}")
        try:
            pipeline = await self._restore()
            if pipeline is None:
                return
            await self._store.claim_pending(self.name, self.owner)
            await self._loop(pipeline)
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew

    async def _restore(self) -> Pipeline | None:
        """A fresh pipeline with the committed state; None (and paused) when it cannot be."""
        committed = await self._store.load(self.name)
        if committed.paused:
            await self._rest(0.5)
            return None
        pipeline = self.spec.build()
        if committed.blob:
            try:
                pipeline.restore(committed.blob)
            except PipelineStateError as exc:
                await self._state_error(exc)
                return None
        self._pipeline = pipeline
        self._watermarks = Watermarks(
            self.spec, self._streams, skew=self._skew, monotonic=self._monotonic, push=self._push
        )
        return pipeline

    async def _state_error(self, exc: PipelineStateError) -> None:
        """Undecodable state: say so, pause, keep the state as it is (never a silent reset)."""
        message = str(exc)
        log.error("pipeline %s: %s; paused (state kept)", self.name, message)
        await self._store.set_paused(self.name, True, "state")
        await self._store.raise_error(
            self.name,
            "error",
            f"state: {message}",
            *self._event(error_event(self.name, "state", str(int(time.time())), message)),
        )

    @staticmethod
    def _event(pending: Pending) -> tuple[str, str, bytes]:
        return pending.event_id, pending.type, pending.body

    # --- the inner loop: one batch at a time ------------------------------------------
    async def _loop(self, pipeline: Pipeline) -> None:
        pending = True
        last_seen: str | None = None
        while not self._stopping.is_set():
            read = await self._store.read(self.name, self.owner, self._batch, pending=pending)
            if read.paused:
                return
            entries = read.entries
            retried = await self._store.retries(self.name, self._batch) if read.retries else []
            if entries:
                last_seen = entries[-1][0]
            if not entries and not retried:
                if pending:
                    pending = False
                    continue
                await self._maintain()
                after = last_seen or await self._store.last_offset()
                if not await self._store.wait_new(after, self._block_ms):
                    await self._idle(pipeline)
                continue
            await self._batch_once(pipeline, entries, retried, read.ids)
            if self._monotonic() - self._stats_at >= self._stats_every:
                await self._maintain()

    async def _idle(self, pipeline: Pipeline) -> None:
        """No input for a while: let the watermark close windows all the same."""
        watermark = await self._watermarks.current([])
        if self._scoped_moved(pipeline) or (
            watermark is not None and (pipeline.watermark is None or watermark > pipeline.watermark)
        ):
            await self._batch_once(pipeline, [], [])

    def _scoped_moved(self, pipeline: Pipeline) -> bool:
        """Hand a scoped pipeline the marks of each stream; True if any part moved."""
        marks = self._watermarks.marks
        if marks is None or not isinstance(pipeline, ScopedPipeline):
            return False
        return pipeline.set_marks(marks)

    async def _batch_once(
        self,
        pipeline: Pipeline,
        entries: list[tuple[str, bytes | None]],
        retried: list[bytes],
        ids: Sequence[str | bytes] | None = None,
    ) -> None:
        records, trimmed = decode_entries(entries)
        letters = [orjson.loads(raw) for raw in retried]
        again = [Record.of(d["offset"], d["event"]) for d in letters if d.get("event")]
        wanted = [r for r in (*again, *records) if self.spec.wants(r)]
        watermark = await self._watermarks.current(wanted)
        moved = self._scoped_moved(pipeline)
        run = wanted or watermark or moved
        outputs = await pipeline.process(wanted, watermark) if run else []
        by_offset = {r.offset: r for r in wanted}
        dead = [self._dead_letter(d, by_offset) for d in pipeline.dead_letters]
        await self._store.commit(
            self.name,
            self.owner,
            blob=pipeline.snapshot(),
            acks=ids if ids is not None else [offset for offset, _ in entries],
            outputs=[self._encode(out) for out in outputs],
            dead=dead,
            n_in=len(wanted),
            n_errors=len(dead),
            retried=len(retried),
        )
        self.batches += 1
        self._watermark = pipeline.watermark
        self._counts["in"] += len(wanted)
        self._counts["out"] += len(outputs)
        self._counts["late"] += len(pipeline.late)
        self._counts["skipped"] += len(entries) + len(retried) - len(wanted) + trimmed

    def _encode(self, out: Output) -> Pending:
        if self.spec.encode is not None:
            return self.spec.encode(out)
        return encode_output(self.name, out)

    def _dead_letter(self, dead: Any, by_offset: Mapping[str, Record]) -> bytes:
        offset = str(dead.origin).split(".", 1)[0].split(":", 1)[-1]
        record = by_offset.get(offset)
        return _dumps(
            {
                "offset": offset if record is not None else None,
                "origin": dead.origin,
                "operator": dead.operator,
                "error": dead.error,
                "value": dead.value,
                "event": dict(record.event) if record is not None else None,
                "at": utc_now_iso(),
            }
        )

    # --- between batches: lag, rates, metrics -----------------------------------------
    async def _maintain(self) -> None:
        now = self._monotonic()
        took = max(now - self._stats_at, 1e-9)
        rates = {
            f"rate{k.capitalize()}": f"{(self._counts[k] - self._stats_counts[k]) / took:.3f}"
            for k in ("in", "out")
        }
        self._stats_at, self._stats_counts = now, dict(self._counts)
        metrics = self._pipeline.metrics() if self._pipeline is not None else {}
        fields = {
            **rates,
            "late": str(self._counts["late"]),
            "skipped": str(self._counts["skipped"]),
            "watermark": "" if self._watermark is None else repr(self._watermark),
            "metrics": _dumps(metrics).decode(),
            "statsAt": repr(time.time()),
        }
        await self._store.set_fields(self.name, fields)
        await self._check_lag()

    async def _check_lag(self) -> None:
        """Lagging past half the log's cap: the log may trim entries before they are read."""
        info = await self._store.group_info(self.name)
        if info is None:
            return
        lag = info.lag
        await self._store.set_fields(self.name, {"lag": "" if lag is None else str(lag)})
        if lag is not None and lag > self._lag_limit:
            message = (
                f"pipeline {self.name!r} is {lag} entries behind the log, past half its cap "
                f"({self._lag_limit}); the log may trim entries before they are read"
            )
            occurrence = info.last_delivered or "0-0"
            raised = await self._store.raise_error(
                self.name,
                "lagError",
                f"more than {self._lag_limit} entries behind the log (half its cap)",
                *self._event(error_event(self.name, "lag", occurrence, message)),
            )
            if raised:
                log.error("%s", message)
        else:
            await self._store.clear_fields(self.name, "lagError")
