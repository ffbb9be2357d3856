"""The push runtime: which connections this process holds, and taking over dead ones.

It runs beside the poll worker in every process that has one (``herald serve``,
``herald worker``). Every ``HERALD_PUSH_CHECK_INTERVAL`` it reads the push streams' version
counter (one ``GET``); when it moved (or every ``RESCAN`` seconds anyway) it reads the
active push streams again and groups them by ``source.connection_key(stream)``. For each
group it holds no runner for, it tries the group's lease; the winner runs a
:class:`~herald.push.runner.ConnectionRunner`. A group whose streams changed is handed to its
runner (which applies the change in place or reconnects); a group with no active streams
left is closed and its lease released.

Takeover: the owner renews its lease every third of ``HERALD_PUSH_LEASE_TTL``. After a
``kill -9`` nobody renews it; it lapses within the TTL, and the next check of any other
process takes it and reconnects from the saved cursor. The bound is therefore
``HERALD_PUSH_LEASE_TTL + HERALD_PUSH_CHECK_INTERVAL`` plus one connect (6 s plus the
connect with the defaults). A clean stop releases the lease at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence

from herald.config import Settings
from herald.push.base import PushSource, PushStream
from herald.push.runner import ConnectionRunner, Group, RunnerConfig, cancel_and_wait
from herald.store.eventlog import EventLog
from herald.store.push import PushStore
from herald.store.streams import ACTIVE, StreamStore

log = logging.getLogger("herald.push")

RESCAN = 30.0
"""Seconds between full reads of the push streams even when the version did not move
(a stream whose keys expired, a missed bump)."""


def runner_config(settings: Settings) -> RunnerConfig:
    s = settings
    return RunnerConfig(
        lease_ttl=s.push_lease_ttl,
        buffer=s.push_buffer,
        batch=s.push_batch,
        backoff=s.push_backoff,
        max_backoff=s.push_max_backoff,
        connect_timeout=s.push_connect_timeout,
        max_errors=s.max_errors,
        check_interval=s.push_check_interval,
    )


class PushRuntime:
    """The connections of one process (module docstring)."""

    def __init__(
        self,
        settings: Settings,
        streams: StreamStore,
        log_: EventLog,
        store: PushStore,
        sources: Sequence[PushSource],
        *,
        worker_id: str | None = None,
    ) -> None:
        self.worker_id = worker_id or secrets.token_hex(6)
        self._streams = streams
        self._log = log_
        self._store = store
        self._by_type = {t: source for source in sources for t in source.stream_types}
        self._config = runner_config(settings)
        self._interval = settings.push_check_interval
        self.runners: dict[str, ConnectionRunner] = {}
        self.groups: dict[str, Group] = {}
        self._version: int | None = None
        self._scanned = 0.0
        self._task: asyncio.Task[None] | None = None
        self.takeovers = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="herald-push")

    async def stop(self) -> None:
        """Stop checking, close every connection and release its lease (others take over
        at their next check)."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        runners, self.runners = list(self.runners.values()), {}
        await asyncio.gather(*(runner.stop() for runner in runners), return_exceptions=True)

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _supervise(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("push runtime check failed; retrying")
            await asyncio.sleep(self._interval)

    async def check(self) -> None:
        """One pass: re-read the streams if they changed, then settle every group."""
        version = await self._store.version()
        now = time.monotonic()
        if version != self._version or now - self._scanned >= RESCAN:
            self.groups = await self._scan()
            self._version, self._scanned = version, now
        for key, runner in list(self.runners.items()):
            if runner.done:
                del self.runners[key]
                continue
            group = self.groups.get(key)
            if group is None:
                del self.runners[key]
                await runner.stop()
                log.info("push connection %s closed: no active stream needs it", key)
            else:
                runner.set_group(group)
        for key, group in self.groups.items():
            if key not in self.runners:
                await self._try_take(group)

    async def _try_take(self, group: Group) -> None:
        token = f"{self.worker_id}.{secrets.token_hex(4)}"
        if not await self._store.take(group.key, token, self._config.lease_ms):
            return
        runner = ConnectionRunner(
            group,
            token=token,
            owner=self.worker_id,
            store=self._store,
            streams=self._streams,
            log_=self._log,
            config=self._config,
        )
        self.takeovers += 1
        self.runners[group.key] = runner
        runner.start()
        log.info("push connection %s: taken by worker %s", group.key, self.worker_id)

    async def _scan(self) -> dict[str, Group]:
        members = await self._store.members()
        ids = sorted(members)
        records = await asyncio.gather(*(self._streams.get(sid) for sid in ids))
        groups: dict[str, Group] = {}
        for sid, record in zip(ids, records, strict=True):
            if record is None:
                await self._store.leave(sid)  # its keys expired: no longer a stream
                continue
            source = self._by_type.get(record.type)
            if record.status != ACTIVE or source is None:
                continue
            stream = PushStream(
                id=record.id,
                type=record.type,
                target=record.username,
                options=record.options,
                created_at=max(record.created_at, members[sid]),
            )
            key = source.connection_key(stream)
            group = groups.setdefault(key, Group(key, source))
            if group.source is not source:
                log.error("two push sources claim connection key %r; stream %s left out", key, sid)
                continue
            group.streams.append(stream)
            group.records[sid] = record
        return groups
