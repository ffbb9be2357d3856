"""One poll of one stream: lock, fetch, diff, record, schedule the next.

The poller owns the rules of DESIGN §1.2: a per-stream lock with an owner token (so at
most one poll of a stream is in flight, whichever worker runs it), consecutive-error
counting with exponential backoff, "retry after" from rate limits, and the auto-stop
after ``max_errors`` failures. It returns when the next poll should run, or None when
the stream should not be polled again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
import traceback
from collections.abc import Collection
from dataclasses import dataclass, field

from herald import metrics
from herald.config import Settings
from herald.engine import changes
from herald.engine.diff import FollowerDiff, diff_followers, diff_posts
from herald.engine.engagement import EngagementDiff, Seen, Thresholds, diff_engagement
from herald.errors import FetchTimeout, InternalError, SourceError
from herald.events import Event, EventType
from herald.push.control import is_push
from herald.sources.base import FetchResult, PollContext
from herald.sources.catalog import stream_types
from herald.sources.models import Item
from herald.sources.registry import SourceRegistry
from herald.store.cursors import encode_cursor
from herald.store.engagement import EngagementStore
from herald.store.eventlog import EventLog, StreamInactive
from herald.store.memory.engagement import MemoryEngagementStore
from herald.store.seen import SeenStore
from herald.store.snapshot import SnapshotStore
from herald.store.streams import ACTIVE, ERROR, StreamRecord, StreamStore, iso

log = logging.getLogger("herald.poller")


def internal_error(exc: Exception, stage: str) -> InternalError:
    """An unexpected exception as a counted error. Its message is left out of the event and
    the log, since it may quote a value (a header, a cookie); its stack, values-free, goes
    to DEBUG."""
    log.debug(
        "unexpected %s during the %s of a poll, raised at:\n%s",
        type(exc).__name__,
        stage,
        "".join(traceback.format_tb(exc.__traceback__)),
    )
    return InternalError(
        f"internal error: an unexpected {type(exc).__name__} during the {stage} "
        "(a herald bug or a bad stored value; the stack is in the server log at DEBUG)"
    )


@dataclass(frozen=True, slots=True)
class PollOutcome:
    outcome: str
    """ok | baseline | error | rate_limited | skipped | busy | stopped"""
    events: int = 0
    next_poll: float | None = None
    error: str | None = None


@dataclass(slots=True)
class _Lease:
    """The lock of the poll in flight; a successful commit releases it in its own script."""

    stream_id: str
    token: str
    held: bool = True


@dataclass(slots=True)
class _Found:
    """What one poll found: events to append, and what to remember for the next poll."""

    events: list[Event]
    remember: list[Item] = field(default_factory=list)
    snapshot: FollowerDiff | None = None
    state: dict[str, str] = field(default_factory=dict)
    engagement: EngagementDiff | None = None


class Poller:
    def __init__(
        self,
        settings: Settings,
        store: StreamStore,
        log_: EventLog,
        sources: SourceRegistry,
        *,
        seen: SeenStore,
        snapshots: SnapshotStore,
        engagement: EngagementStore | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._log = log_
        self._sources = sources
        self._seen = seen
        self._snapshots = snapshots
        self._engagement = engagement or MemoryEngagementStore(limit=settings.tracked_tweets)
        self._thresholds = Thresholds(
            settings.metrics_min_delta,
            settings.metrics_min_ratio,
            settings.metrics_views_min_delta,
            settings.metrics_views_ratio,
        )

    @property
    def lease_ms(self) -> int:
        """Longer than the poll timeout, so a live poll never loses its lock."""
        return int((self._settings.poll_timeout * 1.5 + 1) * 1000)

    async def poll(self, stream_id: str) -> PollOutcome:
        lease = _Lease(stream_id, secrets.token_hex(8))
        locked, record = await self._store.lock_and_get(stream_id, lease.token, self.lease_ms)
        if not locked:
            if record is None or record.status != ACTIVE:
                return PollOutcome("stopped")
            return PollOutcome("busy", next_poll=time.time() + min(record.interval, 2.0))
        try:
            if record is None or record.status != ACTIVE or is_push(record.type):
                return PollOutcome("stopped")  # a stray job of a push stream: never polled
            return await self._poll_locked(record, lease)
        finally:
            if lease.held:
                await self._store.release_lock(lease.stream_id, lease.token)

    async def _poll_locked(self, record: StreamRecord, lease: _Lease) -> PollOutcome:
        started = time.perf_counter()
        known: dict[str, str] = {}
        try:
            async with asyncio.timeout(self._settings.poll_timeout):
                if stream_types().get(record.type).diff == "followers":
                    known = await self._known_followers(record)
                result = await self._fetch(record, known)
        except TimeoutError:
            error: SourceError = FetchTimeout(
                f"the fetch took longer than {self._settings.poll_timeout:g}s and was abandoned"
            )
            return await self._failed(record, error)
        except SourceError as exc:
            return await self._failed(record, exc)
        except Exception as exc:  # a bug or a bad value must still be a counted error
            return await self._failed(record, internal_error(exc, "fetch"))
        finally:
            metrics.POLL_DURATION.labels(record.type).observe(time.perf_counter() - started)
        try:
            return await self._record(record, result, lease, known)
        except StreamInactive:
            return PollOutcome("stopped")
        except SourceError as exc:
            return await self._failed(record, exc)
        except Exception as exc:
            return await self._failed(record, internal_error(exc, "diff"))

    async def _known_followers(self, record: StreamRecord) -> dict[str, str]:
        """The stored snapshot (follower id -> username): the source pages the newest
        followers until it meets one of them, and the diff compares with it."""
        return await self._snapshots.load(record.id)

    async def _fetch(self, record: StreamRecord, known: Collection[str]) -> FetchResult:
        source = self._sources.poll_source(record.type)
        ctx = PollContext(
            stream_id=record.id,
            type=record.type,
            username=record.username,
            account_id=record.account_id,
            options=record.options,
            cursor=record.cursor,
            previous_count=record.previous_count,
            baseline=not record.baselined,
            high_water=int(record.high_water or 0),
            known=known,
            consecutive_errors=record.consecutive_errors,
            last_error_kind=record.last_error_kind,
        )
        return await source.fetch(ctx)

    def _next_at(self, delay: float) -> float:
        spread = delay * self._settings.jitter
        return time.time() + delay + random.uniform(-spread, spread)

    async def _record(
        self, record: StreamRecord, result: FetchResult, lease: _Lease, known: dict[str, str]
    ) -> PollOutcome:
        baseline = not record.baselined
        if stream_types().get(record.type).diff == "followers":
            found = self._follower_changes(record, result, baseline, known)
        else:
            found = await self._post_changes(record, result, baseline)
        if result.gap is not None and not baseline:
            # the hole lies before what this poll found: it comes first
            found.events.insert(0, changes.gap_event(record, result.gap))
        found.events.extend(changes.notice_event(record, n) for n in result.notices)
        found.events.extend(changes.source_change_event(record, c) for c in result.changes)
        appended = await self._log.append(record.id, found.events, require_active=True)
        await self._remember(record, found)
        next_poll = self._next_at(max(record.interval, result.min_interval or 0.0))
        state: dict[str, object] = {
            **found.state,
            "lastPoll": repr(time.time()),
            "nextPoll": repr(next_poll),
            "consecutiveErrors": 0,
            "lastError": "",
            "lastErrorKind": "",
            "baselined": "1",
            "seq": record.seq + 1,
            "cursor": encode_cursor(result.cursor),
        }
        committed = await self._store.commit_poll(record.id, state, lease.token)
        lease.held = False
        if not committed:
            return PollOutcome("stopped")
        outcome = "baseline" if baseline else "ok"
        metrics.POLLS.labels(record.type, outcome).inc()
        for event in found.events:
            metrics.EVENTS.labels(event.type.value).inc()
        return PollOutcome(outcome, events=len(appended), next_poll=next_poll)

    async def _post_changes(
        self, record: StreamRecord, result: FetchResult, baseline: bool
    ) -> _Found:
        # nothing fetched: nothing to compare with what was seen (no round trip)
        seen = await self._seen.check(record.id, [item.id for item in result.items])
        high = int(record.high_water or 0)
        diff = diff_posts(
            result.items, seen.already, floor=seen.floor, high_water=high, baseline=baseline
        )
        found = _Found(
            events=changes.post_events(record, diff),
            remember=diff.to_remember,
            state={"highWater": str(diff.high_water)},
        )
        await self._track(record, result, baseline, found)
        return found

    async def _track(
        self, record: StreamRecord, result: FetchResult, baseline: bool, found: _Found
    ) -> None:
        """Engagement and deletions of recent items, for types whose entry lists
        ``stream:tweet:metrics`` or ``stream:tweet:deleted`` (see engine/engagement.py)."""
        spec = stream_types().get(record.type)
        s = self._settings
        metrics = EventType.TWEET_METRICS in spec.events and s.metrics_min_delta > 0
        deletions = EventType.TWEET_DELETED in spec.events
        if s.tracked_tweets == 0 or not (metrics or deletions):
            return
        window = result.window if deletions and not baseline else None
        floor = window.floor if window is not None else None
        fetched = [Seen.of(item, spec.payload) for item in result.items]
        tracked = await self._engagement.load(record.id, [f.id for f in fetched], floor)
        diff = diff_engagement(
            fetched,
            tracked,
            floor=floor,
            baseline=baseline,
            thresholds=self._thresholds if metrics else None,
            confirm=s.deleted_after_misses,
        )
        found.events.extend(changes.metrics_events(record, diff.changed))
        found.events.extend(changes.deleted_events(record, diff.deleted))
        found.engagement = diff

    def _follower_changes(
        self, record: StreamRecord, result: FetchResult, baseline: bool, known: dict[str, str]
    ) -> _Found:
        snapshot = result.followers
        if snapshot is None:
            raise SourceError("the follower source returned no follower data")
        diff = diff_followers(
            snapshot, known, previous_count=record.previous_count, baseline=baseline
        )
        return _Found(
            events=changes.follower_events(record, diff),
            snapshot=diff,
            state={"previousCount": str(snapshot.count)},
        )

    async def _remember(self, record: StreamRecord, found: _Found) -> None:
        """Store what this poll saw, so the next one can tell what is new."""
        if found.remember:
            await self._seen.remember(record.id, {p.id: p.order for p in found.remember})
        snap = found.snapshot
        if snap is not None:
            await self._snapshots.apply(record.id, snap.snapshot_add, snap.snapshot_remove)
        tracked = found.engagement
        if tracked is not None and (tracked.put or tracked.drop):  # as seen ids: a quiet
            await self._engagement.save(record.id, tracked.put, tracked.drop)  # poll writes none

    async def _failed(self, record: StreamRecord, error: SourceError) -> PollOutcome:
        """Count, record and announce a failed poll, then back off (or wait for a reset)."""
        kind = error.kind
        metrics.POLL_ERRORS.labels(kind).inc()
        metrics.POLLS.labels(record.type, kind).inc()
        await self._store.count_failure(kind)
        message = error.detail
        log.warning("poll of stream %s (@%s) failed: %s", record.id, record.username, message)
        if not error.counts_as_error:
            delay = error.retry_after if error.retry_after is not None else record.interval
            next_poll = time.time() + max(delay, 1.0)
            occurrence = await self._store.record_failure(
                record.id,
                {
                    "lastPoll": repr(time.time()),
                    "nextPoll": repr(next_poll),
                    "lastError": message,
                    "lastErrorKind": kind,
                },
            )
            event = changes.error_event(
                record,
                occurrence=occurrence,
                kind=kind,
                message=message,
                consecutive=record.consecutive_errors,
                retry_at=iso(next_poll),
            )
            await self._append_quietly(record.id, [event])
            return PollOutcome("rate_limited", next_poll=next_poll, error=message)
        errors = record.consecutive_errors + 1
        if errors >= self._settings.max_errors:
            return await self._auto_stop(record, kind, message, errors)
        backoff = min(record.interval * 2**errors, self._settings.max_backoff)
        if error.retry_after is not None:
            backoff = max(backoff, error.retry_after)
        next_poll = self._next_at(backoff)
        occurrence = await self._store.record_failure(
            record.id,
            {
                "lastPoll": repr(time.time()),
                "nextPoll": repr(next_poll),
                "consecutiveErrors": errors,
                "lastError": message,
                "lastErrorKind": kind,
            },
        )
        event = changes.error_event(
            record,
            occurrence=occurrence,
            kind=kind,
            message=message,
            consecutive=errors,
            retry_at=iso(next_poll),
        )
        await self._append_quietly(record.id, [event])
        return PollOutcome("error", next_poll=next_poll, error=message)

    async def _auto_stop(
        self, record: StreamRecord, kind: str, message: str, errors: int
    ) -> PollOutcome:
        reason = f"stopped after {errors} consecutive errors; last: {message}"
        occurrence = await self._store.record_failure(
            record.id,
            {
                "status": ERROR,
                "lastPoll": repr(time.time()),
                "consecutiveErrors": errors,
                "lastError": message,
                "lastErrorKind": kind,
                "stopReason": reason,
            },
        )
        record.status = ERROR
        error = changes.error_event(
            record,
            occurrence=occurrence,
            kind=kind,
            message=message,
            consecutive=errors,
            retry_at=None,
        )
        stopped = changes.lifecycle_event(
            record, EventType.STOPPED, f"auto.{occurrence}", reason=reason
        )
        await self._append_quietly(record.id, [error, stopped])
        log.error("stream %s (@%s) %s", record.id, record.username, reason)
        return PollOutcome("stopped", error=message)

    async def _append_quietly(self, stream_id: str, events: list[Event]) -> None:
        await self._log.append(stream_id, events)
