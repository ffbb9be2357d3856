"""The stream lifecycle: create, stop, pause, resume, update, poll now, and read-outs.

Every entry point validates first and stores nothing on bad input. Lifecycle changes are
events too (``stream:started``, ``stream:paused``...), appended to the same log as
detected changes so every transport sees them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from herald.config import Settings
from herald.engine import changes, validation
from herald.engine.poller import Poller
from herald.engine.scheduler import Scheduler
from herald.errors import HeraldError, StreamExists, StreamNotFound, ValidationError
from herald.events import EventType
from herald.push.control import PushControl, is_push
from herald.sources.catalog import stream_types
from herald.store.eventlog import EventLog
from herald.store.streams import (
    ACTIVE,
    ERROR,
    PAUSED,
    STOPPED,
    StreamRecord,
    StreamStore,
    iso,
)

TokenRegistrar = Callable[[str, str], Awaitable[str]]
"""Stores a stream's token (token, stream type) safely and returns the account id that stands
for it: an X session cookie for X types, a Mastodon access token for Mastodon types."""

STREAM_TYPES: tuple[str, ...] = tuple(t.name for t in stream_types())
"""The canonical type names of the catalog (the seed's three X types first), for
compatibility with the seed's constant; the catalog itself is the source of truth."""


def public(record: StreamRecord) -> dict[str, Any]:
    """A stream as the API shows it: the stored record's fields, with its ``platform`` and
    ``target`` (the same value as the seed's ``username``) beside its ``type``."""
    body = record.public()
    return {
        "id": body.pop("id"),
        "type": body.pop("type"),
        "platform": changes.platform_of(record.type),
        "target": record.username,
        **body,
    }


class StreamNotActive(HeraldError):
    """Poll-now on a paused or stopped-by-errors stream: resume it first."""

    code = "stream_not_active"
    status = 409


class StreamIsPushed(HeraldError):
    """Poll-now on a push stream: its changes arrive as they happen."""

    code = "stream_is_pushed"
    status = 409


class StreamManager:
    def __init__(
        self,
        settings: Settings,
        store: StreamStore,
        log: EventLog,
        scheduler: Scheduler,
        poller: Poller,
        *,
        stream_types: tuple[str, ...] | None = None,
        register_token: TokenRegistrar | None = None,
        push: PushControl | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._log = log
        self._scheduler = scheduler
        self._poller = poller
        self._types = stream_types
        """The types (and aliases) this herald serves; None: every type of the catalog."""
        self._register_token = register_token
        self._push = push
        """The push index of push types (None: no push runtime is wired, as in some tests)."""

    # --- lifecycle ---------------------------------------------------------------
    async def create(
        self,
        type: str,
        username: str | None = None,
        interval: float | None = None,
        auth_token: str | None = None,
        user_id: str | None = None,
        options: dict[str, Any] | None = None,
        *,
        target: str | None = None,
    ) -> dict[str, Any]:
        """Start a stream of ``type`` watching ``target`` (``username`` is its alias, the
        seed's name for it; giving both with different values is refused)."""
        s = self._settings
        known = self._types if self._types is not None else stream_types().names
        stream_type = validation.stream_type(type, known)
        spec = stream_types().get(stream_type)
        stream_type = spec.name  # an alias (x:tweet) is stored as its canonical name
        name = validation.target(spec.target.validate, target=target, username=username)
        seconds = validation.interval(
            interval,
            minimum=max(s.min_interval, spec.min_interval or 0.0),
            maximum=s.max_interval,
            default=max(s.default_interval, spec.min_interval or 0.0),
        )
        opts = spec.options(validation.options_object(options))
        token = validation.auth_token(auth_token)
        if user_id is not None and (not isinstance(user_id, str) or len(user_id) > 200):
            raise ValidationError("userId: must be a string of at most 200 characters")
        account_id = await self._account_for(token, stream_type)
        stream_id = secrets.token_hex(6)
        holder = await self._store.claim(stream_type, name, account_id, stream_id)
        if holder != stream_id:
            raise StreamExists(
                f"a {stream_type} stream of {name} with this account already exists: {holder}",
                holder,
            )
        now = time.time()
        record = StreamRecord(
            id=stream_id,
            type=stream_type,
            username=name,
            interval=seconds,
            created_at=now,
            account_id=account_id,
            user_id=user_id,
            options=opts,
            next_poll=None if spec.mode == "push" else now,
        )
        try:
            await self._store.create(record)
            if spec.mode == "push":
                if self._push is not None:
                    await self._push.joined(stream_id, now)
            else:
                await self._scheduler.schedule(stream_id, now)
        except BaseException:
            await self._store.release_claim(stream_type, name, account_id, stream_id)
            raise
        await self._log.append(
            stream_id, [changes.lifecycle_event(record, EventType.STARTED, f"{now:.6f}")]
        )
        return self._public(record)

    async def _account_for(self, token: str | None, stream_type: str) -> str | None:
        if token is None:
            return None
        if self._register_token is None:
            raise ValidationError("authToken: this herald has no account store for tokens")
        return await self._register_token(token, stream_type)

    async def stop(self, stream_id: str) -> dict[str, Any]:
        record = await self._get(stream_id)
        await self._scheduler.cancel(stream_id)
        await self._store.set_state(stream_id, {"status": STOPPED})
        record.status = STOPPED
        event = changes.lifecycle_event(
            record, EventType.STOPPED, f"{time.time():.6f}", reason="stopped by request"
        )
        await self._log.append(stream_id, [event])
        await self._store.delete(record)
        if self._push is not None and is_push(record.type):
            await self._push.left(stream_id)
        return {"success": True, "streamId": stream_id}

    async def stop_all(self, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
        ids = await self._store.ids()
        stopped = failed = 0
        semaphore = asyncio.Semaphore(16)

        async def one(sid: str) -> bool:
            async with semaphore:
                try:
                    await self.stop(sid)
                    return True
                except HeraldError:
                    return False

        for ok in asyncio.as_completed([one(sid) for sid in ids]):
            if await ok:
                stopped += 1
            else:
                failed += 1
            if progress is not None:
                progress(stopped + failed, len(ids))
        return {"stopped": stopped, "failed": failed, "total": len(ids)}

    async def pause(self, stream_id: str) -> dict[str, Any]:
        record = await self._get(stream_id)
        if record.status == PAUSED:
            return self._public(record)
        await self._store.set_state(stream_id, {"status": PAUSED})
        await self._scheduler.cancel(stream_id)
        if self._push is not None and is_push(record.type):
            await self._push.changed()
        record.status = PAUSED
        await self._log.append(
            stream_id, [changes.lifecycle_event(record, EventType.PAUSED, f"{time.time():.6f}")]
        )
        return self._public(record)

    async def resume(self, stream_id: str) -> dict[str, Any]:
        """Resume a paused stream, or restart one stopped by errors. No new baseline."""
        record = await self._get(stream_id)
        if record.status == ACTIVE:
            return self._public(record)
        now = time.time()
        pushed = is_push(record.type)
        fields: dict[str, Any] = {"status": ACTIVE, "nextPoll": "" if pushed else repr(now)}
        if record.status == ERROR:
            fields.update(consecutiveErrors=0, stopReason="")
        await self._store.set_state(stream_id, fields)
        if not pushed:
            await self._scheduler.schedule(stream_id, now)
        elif self._push is not None:
            await self._push.joined(stream_id, now)  # from now on: the paused time is not replayed
        record.status, record.next_poll = ACTIVE, None if pushed else now
        await self._log.append(
            stream_id, [changes.lifecycle_event(record, EventType.RESUMED, f"{now:.6f}")]
        )
        return self._public(await self._get(stream_id))

    async def update(self, stream_id: str, **updates: Any) -> dict[str, Any]:
        """Change interval, auth token or options; effective from the very next schedule."""
        record = await self._get(stream_id)
        allowed = {"interval", "auth_token", "authToken", "options"}
        unknown = set(updates) - allowed
        if unknown:
            raise ValidationError(
                f"{sorted(unknown)[0]}: cannot be updated (allowed: interval, authToken, options)"
            )
        if not updates:
            raise ValidationError("body: nothing to update (allowed: interval, authToken, options)")
        s = self._settings
        spec = stream_types().get(record.type)
        # Validate every field before anything is stored: a refused change stores nothing,
        # not even the account an authToken would add to the shared pool.
        interval = (
            validation.interval(
                updates["interval"],
                minimum=max(s.min_interval, spec.min_interval or 0.0),
                maximum=s.max_interval,
                default=record.interval,
            )
            if "interval" in updates
            else None
        )
        options = (
            spec.options(validation.options_object(updates["options"]))
            if "options" in updates
            else None
        )
        new_token = "authToken" in updates or "auth_token" in updates
        token = validation.auth_token(updates.get("authToken", updates.get("auth_token")))
        meta: dict[str, Any] = {}
        changed: list[str] = []
        if interval is not None:
            record.interval = interval
            meta["interval"] = repr(record.interval)
            changed.append("interval")
        if options is not None:
            record.options = {**record.options, **options}
            meta["options"] = orjson.dumps(record.options)
            changed.append("options")
        if new_token:
            record.account_id = await self._account_for(token, record.type)
            meta["accountId"] = record.account_id or ""
            changed.append("authToken")
        await self._store.update_meta(stream_id, meta)
        if is_push(record.type):
            if self._push is not None:
                await self._push.changed()
        elif "interval" in changed and record.status == ACTIVE:
            base = record.last_poll or time.time()
            record.next_poll = max(base + record.interval, time.time())
            await self._store.set_state(stream_id, {"nextPoll": repr(record.next_poll)})
            await self._scheduler.reschedule(stream_id, record.next_poll)
        await self._log.append(
            stream_id,
            [
                changes.lifecycle_event(
                    record, EventType.UPDATED, f"{time.time():.6f}", changed=changed
                )
            ],
        )
        return self._public(await self._get(stream_id))

    async def poll_now(self, stream_id: str) -> dict[str, Any]:
        record = await self._get(stream_id)
        if is_push(record.type):
            raise StreamIsPushed(
                f"streamId: stream {stream_id} is a {record.type} stream; its changes are pushed "
                "over a held connection as they happen, there is nothing to poll"
            )
        if record.status != ACTIVE:
            raise StreamNotActive(f"status: stream {stream_id} is {record.status}; resume it first")
        outcome = await self._poller.poll(stream_id)
        if outcome.next_poll is not None and outcome.outcome != "busy":
            await self._scheduler.reschedule(stream_id, outcome.next_poll)
        return {
            "streamId": stream_id,
            "outcome": outcome.outcome,
            "events": outcome.events,
            "error": outcome.error,
            "nextPoll": iso(outcome.next_poll),
        }

    # --- read-outs ---------------------------------------------------------------
    async def list_streams(self) -> list[dict[str, Any]]:
        return [self._public(record) for record in await self._store.all()]

    async def status(self, stream_id: str) -> dict[str, Any]:
        record = await self._get(stream_id)
        body = self._public(record)
        if is_push(record.type):
            body["scheduledFor"] = None
            if self._push is not None:
                body["connection"] = await self._push.connection(record)
            return body
        body["scheduledFor"] = iso(await self._scheduler.planned_at(stream_id))
        return body

    async def history(self, stream_id: str, limit: int = 50) -> list[dict[str, Any]]:
        await self._get(stream_id)
        count = validation.history_limit(limit, maximum=self._settings.history_size)
        return await self._log.history(stream_id, count)

    async def stats(self) -> dict[str, Any]:
        records = await self._store.all()
        statuses = Counter(r.status for r in records)
        events: Counter[str] = Counter()
        for record in records:
            events.update(record.counts)
        totals = await self._store.totals()
        errors = {k.split(":", 1)[1]: v for k, v in totals.items() if k.startswith("errors:")}
        return {
            "total": len(records),
            "active": statuses.get(ACTIVE, 0),
            "paused": statuses.get(PAUSED, 0),
            "error": statuses.get(ERROR, 0),
            "byType": dict(Counter(r.type for r in records)),
            "eventsByType": dict(events),
            "eventsTotal": sum(events.values()),
            "polls": totals.get("polls", 0),
            "errors": sum(errors.values()),
            "errorsByKind": errors,
        }

    async def overdue(self, grace: float) -> list[str]:
        """Active streams whose next poll is more than ``grace`` seconds late."""
        now = time.time()
        return [
            r.id
            for r in await self._store.all()
            if r.status == ACTIVE
            and r.next_poll is not None
            and r.next_poll < now - grace
            and not is_push(r.type)
        ]

    @staticmethod
    def _public(record: StreamRecord) -> dict[str, Any]:
        """:func:`public`; a push stream says ``mode: push`` and has no next poll."""
        body = public(record)
        if is_push(record.type):
            body["mode"] = "push"
            body["nextPoll"] = None
        return body

    async def _get(self, stream_id: str) -> StreamRecord:
        if not isinstance(stream_id, str) or not stream_id:
            raise ValidationError("streamId: must be a non-empty string")
        record = await self._store.get(stream_id)
        if record is None:
            raise StreamNotFound(f"no stream with id {stream_id!r}")
        return record
