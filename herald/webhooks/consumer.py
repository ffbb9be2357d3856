"""Delivering the log to one endpoint: in order, from where it left off, one owner at a time.

The consumer holds the endpoint's lease (renewed in the background), reads the global log
after the endpoint's committed offset, and for each event its selector matches sends one
signed POST. On a 2xx it commits the offset past the event in the same fenced script that
records the attempt; events the selector skips are committed after each batch.

**Head of line.** An event is retried on the schedule until it succeeds, the schedule is
exhausted or the endpoint is disabled; later events wait behind it. That keeps the order
per endpoint strict (a receiver never sees event N+1 before N) at the cost of latency for
the rest during an outage, the trade Standard Webhooks receivers expect from a per-endpoint
queue. The retry in progress (offset, attempts made, next attempt time) is stored, so a
restart continues the schedule instead of starting it over.

**Giving up.** A 410 Gone, or the schedule exhausted, disables the endpoint (with a
``webhook:health`` event); the event is NOT skipped: re-enabling the endpoint starts a
fresh schedule with that same event, so nothing is lost silently. Only a person gives up
on it, by naming it (``WebhooksManager.skip``, while the endpoint is disabled).

**Crashes.** Delivery is at-least-once. A crash (or a lost lease) after the receiver
answered and before the commit resends that one event on the next owner: the window is
one commit round trip, and the resend carries the same ``webhook-id`` (the eventId), so a
receiver that remembers ids drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from redis.exceptions import RedisError

from herald.errors import HeraldError
from herald.events import Event, EventType
from herald.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_LATENCY
from herald.store.logentry import Entry
from herald.store.logreader import LogReader
from herald.store.secrets import Cipher
from herald.store.webhooks import HealthChange, WebhookStore, health_stream
from herald.webhooks import signing
from herald.webhooks.model import iso, selector_of
from herald.webhooks.schedule import Schedule, retry_after
from herald.webhooks.sender import Limits, Result, new_client, send

log = logging.getLogger("herald.webhooks")


class Fenced(Exception):
    """This process no longer holds the endpoint's lease."""


@dataclass(frozen=True, slots=True)
class Context:
    """What every consumer of a process shares."""

    store: WebhookStore
    log: LogReader
    cipher: Callable[[], Cipher]
    schedule: Schedule
    limits: Limits
    lease_ttl: float = 10.0
    batch: int = 500
    worker_id: str = ""


def health_change(
    endpoint_id: str,
    seq: int,
    state: str,
    previous: str,
    reason: str,
    *,
    key: str | None = None,
    **extra: Any,
) -> HealthChange:
    """The ``webhook:health`` event of transition ``seq + 1`` (its eventId from ``key``,
    by default the transition's number)."""
    event = Event(
        EventType.WEBHOOK_HEALTH,
        health_stream(endpoint_id),
        endpoint_id,
        key or str(seq + 1),
        {
            "webhookId": endpoint_id,
            "state": state,
            "previous": previous,
            "reason": reason,
            **extra,
        },
        platform="herald",
    )
    return HealthChange(seq, state, event.event_id, event.type.value, event.encode())


def attempt_record(entry_id: str, offset: str, n: int, result: Result, **extra: Any) -> bytes:
    record: dict[str, Any] = {
        "eventId": entry_id,
        "offset": offset,
        "attempt": n,
        "status": result.status,
        "latencyMs": result.latency_ms,
        "error": result.error,
        "at": iso(time.time()),
        **extra,
    }
    if result.truncated:
        record["truncated"] = True
    return orjson.dumps(record)


class Consumer:
    """Keeps one endpoint delivered for as long as this process can own it."""

    def __init__(
        self,
        endpoint: Mapping[str, Any],
        ctx: Context,
        wake: Callable[[], asyncio.Event],
    ) -> None:
        self.endpoint = dict(endpoint)
        self.id = str(endpoint["id"])
        self._ctx = ctx
        self._wake = wake
        self.owner = f"{ctx.worker_id or 'w'}:{uuid.uuid4().hex[:12]}"
        self._stopping = asyncio.Event()
        self._lost = False
        self._health = "ok"
        self.delivered = 0

    def stop(self) -> None:
        self._stopping.set()

    async def _pause(self, seconds: float, tick: asyncio.Event | None = None) -> None:
        """Wait ``seconds``, or less if stopped (or ``tick`` fires)."""
        waits = [asyncio.ensure_future(self._stopping.wait())]
        if tick is not None:
            waits.append(asyncio.ensure_future(tick.wait()))
        try:
            await asyncio.wait(waits, timeout=max(seconds, 0.0), return_when="FIRST_COMPLETED")
        finally:
            for w in waits:
                w.cancel()

    async def run(self) -> None:
        ctx = self._ctx
        client = new_client(ctx.limits)
        ttl_ms = max(int(ctx.lease_ttl * 1000), 100)
        try:
            while not self._stopping.is_set():
                try:
                    if not await ctx.store.acquire(self.id, self.owner, ttl_ms):
                        await self._pause(ctx.lease_ttl / 2)
                        continue
                    self._lost = False
                    renewer = asyncio.create_task(self._renew(ttl_ms))
                    try:
                        await self._own(client)
                    finally:
                        renewer.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await renewer
                except Fenced:
                    log.info("webhook %s: lease lost; another process delivers now", self.id)
                except (RedisError, OSError) as exc:
                    log.warning("webhook %s: storage error (%s); retrying", self.id, exc)
                    await self._pause(1.0)
                except HeraldError as exc:  # e.g. a secret sealed with another key
                    log.error("webhook %s cannot deliver: %s", self.id, exc.detail)
                    await self._pause(30.0)
        finally:
            await client.close()
            with contextlib.suppress(RedisError, OSError):
                await asyncio.shield(ctx.store.release(self.id, self.owner))

    async def _renew(self, ttl_ms: int) -> None:
        while True:
            await asyncio.sleep(ttl_ms / 3000)
            try:
                if not await self._ctx.store.acquire(self.id, self.owner, ttl_ms):
                    self._lost = True
                    return
            except (RedisError, OSError):
                continue

    def _check(self) -> None:
        if self._lost:
            raise Fenced(self.id)

    async def _own(self, client: Any) -> None:
        ctx = self._ctx
        sealed = self.endpoint.get("sealedSecret")
        key = signing.secret_key(ctx.cipher().decrypt(str(sealed)))
        selector = selector_of(self.endpoint)
        state = await ctx.store.state(self.id)
        self._health = state.get("health") or "ok"
        offset = state.get("offset") or "0-0"
        retry = state.get("retryOffset")
        carried = (int(state.get("retryAttempts") or 0), float(state.get("nextAt") or 0) / 1000)
        while not self._stopping.is_set():
            self._check()
            tick = self._wake()
            entries, gap = await ctx.log.after_checked(offset, ctx.batch)
            if gap is not None:
                await self._report_gap(offset, gap)
            if not entries:
                await self._pause(1.0, tick)
                continue
            skipped: str | None = None
            for entry in entries:
                if self._stopping.is_set():
                    break
                if not selector.matches(entry):
                    skipped = entry.offset
                    continue
                attempts, next_at = carried if entry.offset == retry else (0, 0.0)
                retry, carried = None, (0, 0.0)
                if not await self._deliver(client, key, entry, attempts, next_at):
                    return
                skipped, offset = None, entry.offset
            if skipped is not None:
                if not await ctx.store.commit(self.id, self.owner, skipped, None, False):
                    raise Fenced(self.id)
                offset = skipped

    async def _deliver(
        self, client: Any, key: bytes, entry: Entry, attempts: int, next_at: float
    ) -> bool:
        """Send ``entry`` until it is delivered (True) or the endpoint is disabled or this
        consumer stops (False)."""
        ctx = self._ctx
        body = entry.body
        msg_id = str(body.get("eventId") or entry.offset)
        fmt = str(self.endpoint.get("format") or "standard")
        while True:
            wait = next_at - time.time()
            if wait > 0:
                await self._pause(wait)
            if self._stopping.is_set():
                return False
            self._check()
            result = await send(
                client,
                ctx.limits,
                url=str(self.endpoint["url"]),
                key=key,
                fmt=fmt,
                msg_id=msg_id,
                data=entry.data,
                event=body if fmt != "standard" else None,
            )
            attempts += 1
            WEBHOOK_LATENCY.observe(result.latency_ms / 1000)
            WEBHOOK_ATTEMPTS.labels("delivered" if result.ok else "failed").inc()
            record = attempt_record(msg_id, entry.offset, attempts, result)
            if result.ok:
                if not await ctx.store.commit(self.id, self.owner, entry.offset, record, True):
                    raise Fenced(self.id)
                self.delivered += 1
                if self._health != "ok":
                    await self._recovered()
                return True
            if result.status == 410:
                await self._disable("the endpoint answered 410 Gone", record)
                return False
            asked = retry_after(result.retry_after, time.time())
            delay = ctx.schedule.delay(attempts, asked)
            if delay is None:
                reason = f"gave up on {msg_id} after {attempts} attempts ({result.error})"
                await self._disable(reason, record)
                return False
            next_at = time.time() + delay
            error = result.error or "failed"
            if not await ctx.store.fail(
                self.id, self.owner, entry.offset, attempts, int(next_at * 1000), record, error
            ):
                raise Fenced(self.id)

    async def _report_gap(self, offset: str, oldest: str) -> None:
        """Say once that the log was trimmed past this endpoint's offset: the events after
        ``offset`` and before ``oldest`` are gone and will never be delivered.

        The health becomes ``gap`` until the next delivery (``ok``, "delivering again");
        while it is ``gap`` nothing more is appended (the same gap seen again after a
        takeover or a re-enable). The notice's eventId is the gap's start, so two processes
        racing on the same gap append it once.
        """
        reason = (
            f"the log was trimmed before these events were delivered: every event after "
            f"{offset} and before {oldest} is gone (raise HERALD_LOG_MAXLEN, or keep the "
            "endpoint up)"
        )
        log.warning("webhook %s: %s", self.id, reason)
        state = await self._ctx.store.state(self.id)
        seq = int(state.get("healthSeq") or 0)
        previous = state.get("health") or "ok"
        self._health = previous
        if previous == "gap":
            return
        extra = {"gapAfter": offset, "oldestHeld": oldest}
        change = health_change(self.id, seq, "gap", previous, reason, key=f"gap-{offset}", **extra)
        await self._ctx.store.health(self.id, change)
        self._health = "gap"

    async def _recovered(self) -> None:
        state = await self._ctx.store.state(self.id)
        seq = int(state.get("healthSeq") or 0)
        previous = state.get("health") or "ok"
        change = health_change(self.id, seq, "ok", previous, "delivering again")
        await self._ctx.store.health(self.id, change)
        self._health = "ok"

    async def _disable(self, reason: str, record: bytes) -> None:
        """Turn the endpoint off (compare-and-set, so an edit made meanwhile wins)."""
        store = self._ctx.store
        for _ in range(10):
            raw = await store.endpoint_raw(self.id)
            if raw is None:
                return
            current = orjson.loads(raw)
            if not current.get("enabled", True):
                return
            replacement = {
                **current,
                "enabled": False,
                "disabledReason": reason,
                "disabledAt": iso(time.time()),
            }
            state = await store.state(self.id)
            seq = int(state.get("healthSeq") or 0)
            previous = state.get("health") or "ok"
            change = health_change(self.id, seq, "disabled", previous, reason)
            outcome = await store.disable(self.id, self.owner, raw, replacement, change, record)
            if outcome == "moved":
                log.warning("webhook %s disabled: %s", self.id, reason)
                self._health = "disabled"
                self.stop()
                return
            if outcome == "fenced":
                raise Fenced(self.id)
