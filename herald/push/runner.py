"""One push connection held by this process, for as long as it holds the connection's lease.

The runner connects from the saved cursor, reads frames into a bounded buffer, decodes them
in batches and appends each batch's events together with the new cursor in one script
(:class:`herald.store.push.PushStore`). Beside it a task renews the lease every third of its
TTL; the moment a renewal fails, the runner is cancelled: it stops reading at once, and the
append script refuses a lapsed token anyway, so two owners never both write.

Backpressure: the reader blocks on the full buffer, so it stops reading the socket and TCP
slows the upstream down (``websockets`` keeps at most a small queue of its own). Nothing
is dropped on the floor: frames still buffered at a failure are read again after the
reconnect from the saved cursor (where the upstream can replay).

Failures (connect, a lost connection, a decode that raises) are ``stream:error`` events on
every stream of the connection with consecutive-error counting and the poller's auto-stop
rule (``HERALD_MAX_ERRORS``); reconnects wait a jittered exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from herald import metrics
from herald.engine import changes
from herald.errors import InternalError, SourceError
from herald.events import Event, EventType
from herald.push.base import (
    ConnectionPlan,
    Decoded,
    Frame,
    FrameError,
    PushConnection,
    PushSource,
    PushStream,
)
from herald.push.wsconn import PushConnectionError
from herald.store.eventlog import EventLog
from herald.store.push import PushStore
from herald.store.streams import ACTIVE, ERROR, StreamRecord, StreamStore, iso

log = logging.getLogger("herald.push")

ROTATE_AT = 0.95
"""A connection with a lifetime cap is reopened at this share of it."""
TOUCH_EVERY = 60.0
"""Seconds between TTL renewals of the connection's streams (a quiet stream must live on)."""


@dataclass(slots=True)
class Group:
    """The active streams that share one connection, as the supervisor last read them."""

    key: str
    source: PushSource
    streams: list[PushStream] = field(default_factory=list)
    records: dict[str, StreamRecord] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    lease_ttl: float = 5.0
    buffer: int = 2000
    batch: int = 500
    backoff: float = 1.0
    max_backoff: float = 60.0
    connect_timeout: float = 15.0
    max_errors: int = 10
    check_interval: float = 1.0

    @property
    def lease_ms(self) -> int:
        return int(self.lease_ttl * 1000)


class LeaseLost(Exception):
    """The lease lapsed or was taken: this process must not read or append any more."""


class ConnectionRunner:
    """Holds one connection (module docstring). Built by the supervisor once it has
    taken the lease with ``token``; :meth:`stop` releases it."""

    def __init__(
        self,
        group: Group,
        *,
        token: str,
        owner: str,
        store: PushStore,
        streams: StreamStore,
        log_: EventLog,
        config: RunnerConfig,
    ) -> None:
        self.key = group.key
        self.token = token
        self.owner = owner
        self._group = group
        self._store = store
        self._streams = streams
        self._log = log_
        self._config = config
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._cursor: str | None = None
        self._plan = ConnectionPlan()
        self.lost = False
        self.connected = False
        self.serving: frozenset[str] = frozenset()
        """The stream ids the open connection was opened or updated for."""
        self.sessions = 0
        self.reconnects = 0
        self.failures = 0
        """Consecutive failed sessions (reset by the first batch a session appends)."""
        self.last_message: float | None = None
        self.lag = 0.0
        self.frames_total = 0
        self.events_total = 0
        self.last_error = ""
        self.buffer_peak = 0
        self._queue: asyncio.Queue[Frame] | None = None
        self._rate = (time.monotonic(), 0)
        self.events_per_second = 0.0

    # --- control -----------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._main(), name=f"herald-push-{self.key}")

    @property
    def done(self) -> bool:
        return self._task is None or self._task.done()

    @property
    def streams(self) -> list[PushStream]:
        return list(self._group.streams)

    @property
    def buffered(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    def set_group(self, group: Group) -> None:
        """The supervisor's newest view; a different stream set is applied in place (or by a
        reconnect) by the session loop."""
        changed = group.streams != self._group.streams
        self._group = group
        if changed:
            self._changed.set()

    async def stop(self) -> None:
        """Stop reading, close the connection, give the lease back."""
        if self._task is not None:
            await cancel_and_wait(self._task)

    # --- the connection ----------------------------------------------------------------
    async def _main(self) -> None:
        keeper = asyncio.create_task(self._keep_lease(), name=f"herald-push-lease-{self.key}")
        try:
            self._cursor = await self._store.cursor(self.key)
            while True:
                await self._session()
        except LeaseLost:
            self.lost = True
            log.warning("push connection %s: lease lost; stopped reading", self.key)
        finally:
            await cancel_and_wait(keeper)
            self.connected = False
            metrics.PUSH_CONNECTED.labels(self.key).set(0)
            if not self.lost:
                with contextlib.suppress(Exception):
                    await self._write_status()
                    await self._store.release(self.key, self.token)

    async def _keep_lease(self) -> None:
        cfg = self._config
        last_ok = time.monotonic()
        touched = 0.0
        while True:
            await asyncio.sleep(cfg.lease_ttl / 3)
            try:
                held = await self._store.renew(self.key, self.token, cfg.lease_ms)
            except Exception:
                log.exception("push connection %s: lease renewal failed", self.key)
                if time.monotonic() - last_ok < cfg.lease_ttl * 0.8:
                    continue
                held = False
            if not held:
                self.lost = True
                log.warning("push connection %s: lease lost; stopping at once", self.key)
                if self._task is not None:
                    self._task.cancel()
                return
            last_ok = time.monotonic()
            with contextlib.suppress(Exception):
                await self._write_status()
                if last_ok - touched >= TOUCH_EVERY:
                    touched = last_ok
                    await self._store.touch(self._group.records)

    async def _write_status(self) -> None:
        now = time.monotonic()
        at, total = self._rate
        if now - at >= 0.5:
            self.events_per_second = (self.events_total - total) / (now - at)
            self._rate = (now, self.events_total)
        status = {
            "owner": self.owner,
            "connected": "1" if self.connected else "0",
            "lastMessage": repr(self.last_message) if self.last_message else "",
            "lag": f"{self.lag:.3f}",
            "eventsPerSecond": f"{self.events_per_second:.2f}",
            "reconnects": self.reconnects,
            "lastError": self.last_error,
            "buffered": self.buffered,
            "cursor": self._cursor or "",
            "at": repr(time.time()),  # when: an idle connected stream's watermark
        }
        ttl = self._config.lease_ms * 3
        await self._store.set_status(self.key, status, ttl)

    async def _session(self) -> None:
        """One connection, from connect to its end; returns to be called again."""
        group = self._group
        self._changed.clear()
        streams = list(group.streams)
        try:
            self._plan = group.source.plan(self.key, streams)
            async with asyncio.timeout(self._config.connect_timeout):
                conn = await group.source.connect(self.key, streams, self._cursor)
        except TimeoutError:
            t = self._config.connect_timeout
            await self._failed(PushConnectionError("unreachable", f"no connection within {t:g} s"))
            return
        except SourceError as exc:
            await self._failed(exc)
            return
        except Exception as exc:
            await self._failed(_internal(exc, "connect"))
            return
        self.sessions += 1
        if self.sessions > 1:
            self.reconnects += 1
        self.connected = True
        self.serving = frozenset(s.id for s in streams)
        metrics.PUSH_CONNECTED.labels(self.key).set(1)
        log.info("push connection %s: connected (%d streams)", self.key, len(streams))
        failure: SourceError | None = None
        reason = "closed"
        try:
            reason = await self._read_loop(conn)
        except SourceError as exc:
            failure = exc
        except LeaseLost:
            raise
        except Exception as exc:
            failure = _internal(exc, "decode")
        finally:
            self.connected = False
            self.serving = frozenset()
            metrics.PUSH_CONNECTED.labels(self.key).set(0)
            await conn.aclose()
        if failure is not None:
            await self._failed(failure)
            return
        metrics.PUSH_RECONNECTS.labels(self.key, reason).inc()
        log.info("push connection %s: reopening (%s)", self.key, reason)

    async def _read_loop(self, conn: PushConnection) -> str:
        """Read and append until the connection must be reopened; returns why. A failed
        connection raises its SourceError after the frames it delivered are appended."""
        cfg, plan = self._config, self._plan
        queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=cfg.buffer)
        self._queue = queue
        reader = asyncio.create_task(self._read(conn, queue), name=f"herald-push-read-{self.key}")
        getter: asyncio.Task[Frame] | None = None
        opened = time.monotonic()
        rotate_at = opened + plan.max_lifetime * ROTATE_AT if plan.max_lifetime else math.inf
        last_frame = opened
        try:
            while True:
                if self._changed.is_set():
                    self._changed.clear()
                    if not await self._apply(conn):
                        await self._drain(reader, queue)
                        return "update"
                now = time.monotonic()
                if now >= rotate_at:
                    await self._drain(reader, queue)
                    return "rotation"
                if queue.empty():
                    if reader.done():
                        reader.result()  # raises the connection's failure
                        return "closed"
                    getter = getter or asyncio.create_task(queue.get())
                    timeout = min(
                        plan.idle_timeout - (now - last_frame), rotate_at - now, cfg.check_interval
                    )
                    done, _ = await asyncio.wait(
                        {getter, reader},
                        timeout=max(timeout, 0.0),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    if getter not in done:
                        if time.monotonic() - last_frame >= plan.idle_timeout:
                            self.last_error = f"idle: no frame for {plan.idle_timeout:g} s"
                            return "idle"
                        continue
                    first = getter.result()
                    getter = None
                else:
                    first = queue.get_nowait()
                last_frame = time.monotonic()
                await self._process(self._take(first, queue))
        finally:
            if getter is not None:
                getter.cancel()
            await cancel_and_wait(reader)
            self._queue = None
            metrics.PUSH_BUFFERED.labels(self.key).set(0)

    async def _read(self, conn: PushConnection, queue: asyncio.Queue[Frame]) -> None:
        cap = self._config.buffer
        gauge = metrics.PUSH_BUFFERED.labels(self.key)
        while True:
            frame = await conn.recv()
            await queue.put(frame)  # full: stop reading, TCP slows the upstream
            size = queue.qsize()
            if size > self.buffer_peak:
                self.buffer_peak = min(size, cap)
            gauge.set(size)

    def _take(self, first: Frame, queue: asyncio.Queue[Frame]) -> list[Frame]:
        frames = [first]
        limit = self._config.batch
        while len(frames) < limit and not queue.empty():
            frames.append(queue.get_nowait())
        return frames

    async def _drain(self, reader: asyncio.Task[None], queue: asyncio.Queue[Frame]) -> None:
        """A planned reopen: stop reading, then append what was read (no replay needed)."""
        await cancel_and_wait(reader)
        while not queue.empty():
            await self._process(self._take(queue.get_nowait(), queue))

    async def _apply(self, conn: PushConnection) -> bool:
        streams = list(self._group.streams)
        try:
            applied = await conn.update(streams)
        except SourceError as exc:
            log.info("push connection %s: update in place failed (%s)", self.key, exc.detail)
            return False
        if applied:
            self.serving = frozenset(s.id for s in streams)
        return applied

    # --- a batch -----------------------------------------------------------------
    async def _process(self, frames: list[Frame]) -> None:
        group = self._group
        cap = self._plan.max_frame_bytes
        good = [f for f in frames if len(f.data) <= cap]
        refused = [
            FrameError("too_large", f"a frame of {len(f.data)} bytes exceeds the cap of {cap}")
            for f in frames
            if len(f.data) > cap
        ]
        decoded = (
            await group.source.decode(self.key, good, group.streams, self._cursor)
            if good
            else Decoded()
        )
        batches = self._events(group, decoded)
        if batches or decoded.cursor:
            result = await self._store.append(self.key, self.token, batches, decoded.cursor)
            if result is None:
                raise LeaseLost(self.key)
            self.events_total += len(result.appended)
            for stream_events in batches.values():
                for event in stream_events:
                    metrics.EVENTS.labels(event.type.value).inc()
        if decoded.cursor:
            self._cursor = decoded.cursor
        now = time.time()
        self.frames_total += len(frames)
        metrics.PUSH_FRAMES.labels(self.key).inc(len(frames))
        self.last_message = frames[-1].received
        upstream = decoded.upstream_time
        self.lag = max(0.0, now - (upstream if upstream is not None else frames[0].received))
        metrics.PUSH_LAG.labels(self.key).set(self.lag)
        if self.failures:
            self.failures = 0
            self.last_error = ""
            await self._clear_errors(group)
        errors = refused + decoded.errors
        if errors:
            await self._frame_errors(group, errors)

    def _events(self, group: Group, decoded: Decoded) -> dict[str, list[Event]]:
        records = group.records
        every = list(records)
        batches: dict[str, list[Event]] = {}
        base = self._cursor or "start"
        for i, (sid, gap) in enumerate(decoded.gaps):
            for target in [sid] if sid else every:
                if target in records:
                    event = changes.gap_event(records[target], gap, marker=f"{base}.{i}")
                    batches.setdefault(target, []).append(event)
        for change in decoded.changes:
            record = records.get(change.stream_id)
            if record is not None:
                batches.setdefault(change.stream_id, []).append(
                    changes.change_event(record, change)
                )
        for i, (sid, notice) in enumerate(decoded.notices):
            for target in [sid] if sid else every:
                if target in records:
                    event = changes.notice_event(records[target], notice, marker=f"{base}.{i}")
                    batches.setdefault(target, []).append(event)
        return batches

    # --- errors --------------------------------------------------------------------
    async def _frame_errors(self, group: Group, errors: Sequence[FrameError]) -> None:
        """One ``stream:error`` per stream and kind per batch: counted, never fatal."""
        found: dict[tuple[str, str], tuple[int, str]] = {}
        for error in errors:
            for sid in [error.stream_id] if error.stream_id else list(group.records):
                count, first = found.get((sid, error.kind), (0, error.message))
                found[(sid, error.kind)] = (count + 1, first)
        for (sid, kind), (count, message) in found.items():
            record = await self._streams.get(sid)
            if record is None or record.status != ACTIVE:
                continue
            text = message if count == 1 else f"{message} (and {count - 1} more such frames)"
            occurrence = await self._streams.record_failure(
                sid, {"lastError": text, "lastErrorKind": kind}
            )
            event = changes.error_event(
                record,
                occurrence=occurrence,
                kind=kind,
                message=text,
                consecutive=record.consecutive_errors,
                retry_at=None,
            )
            await self._log.append(sid, [event])

    async def _clear_errors(self, group: Group) -> None:
        for sid in group.records:
            record = await self._streams.get(sid)
            if record is not None and record.status == ACTIVE and record.consecutive_errors:
                await self._streams.set_state(
                    sid, {"consecutiveErrors": 0, "lastError": "", "lastErrorKind": ""}
                )

    def backoff(self) -> float:
        cfg = self._config
        delay: float = min(cfg.backoff * 2.0 ** max(self.failures - 1, 0), cfg.max_backoff)
        return delay * random.uniform(0.8, 1.2)

    async def _failed(self, error: SourceError) -> None:
        """Count, announce on every stream, then wait the backoff before the next try."""
        self.failures += 1
        delay = self.backoff()
        kind = error.kind
        self.last_error = f"{kind}: {error.detail}"
        retry_at = time.time() + delay
        log.warning(
            "push connection %s failed (%s); retrying in %.1f s", self.key, error.detail, delay
        )
        metrics.PUSH_RECONNECTS.labels(self.key, kind).inc()
        stopped = False
        for sid in list(self._group.records):
            stopped |= await self._stream_failed(sid, kind, error.detail, retry_at)
        if stopped:
            await self._store.bump()
        with contextlib.suppress(Exception):
            await self._write_status()
        await asyncio.sleep(delay)

    async def _stream_failed(self, sid: str, kind: str, message: str, retry_at: float) -> bool:
        """Record one failure of a stream; True if it was stopped by the error rule."""
        record = await self._streams.get(sid)
        if record is None or record.status != ACTIVE:
            return False
        errors = record.consecutive_errors + 1
        values: dict[str, object] = {
            "consecutiveErrors": errors,
            "lastError": message,
            "lastErrorKind": kind,
        }
        if errors >= self._config.max_errors:
            reason = f"stopped after {errors} consecutive errors; last: {message}"
            values.update(status=ERROR, stopReason=reason)
            occurrence = await self._streams.record_failure(sid, values)
            record.status = ERROR
            events = [
                changes.error_event(
                    record,
                    occurrence=occurrence,
                    kind=kind,
                    message=message,
                    consecutive=errors,
                    retry_at=None,
                ),
                changes.lifecycle_event(
                    record, EventType.STOPPED, f"auto.{occurrence}", reason=reason
                ),
            ]
            await self._log.append(sid, events)
            log.error("stream %s (%s) %s", sid, record.username, reason)
            return True
        occurrence = await self._streams.record_failure(sid, values)
        event = changes.error_event(
            record,
            occurrence=occurrence,
            kind=kind,
            message=message,
            consecutive=errors,
            retry_at=iso(retry_at),
        )
        await self._log.append(sid, [event])
        return False


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it has ended, whatever it raised. Unlike awaiting it
    under ``suppress(CancelledError)``, a cancellation of the caller itself while it waits
    is not swallowed: a stop can never be lost."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled() and task.exception() is not None:
        log.debug("a push task ended with %r", task.exception())


def _internal(exc: Exception, stage: str) -> InternalError:
    log.debug("push %s raised", stage, exc_info=exc)
    return InternalError(
        f"internal error: an unexpected {type(exc).__name__} during the {stage} of a push "
        "connection (a herald bug or a bad frame; the stack is in the server log at DEBUG)"
    )
