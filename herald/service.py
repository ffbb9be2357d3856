"""Herald: one object that owns the Redis connection, the engine and (optionally) delivery.

``herald serve`` runs one with a worker and delivery; ``herald worker`` one with a worker
only; tests build them with in-memory sources. Start and stop go through ``async with``
so every background task is cancelled and awaited on the way out.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from redis.asyncio import Redis

from herald.config import Settings
from herald.engine.liveness import Liveness
from herald.engine.manager import StreamManager
from herald.engine.poller import Poller
from herald.engine.scheduler import Scheduler
from herald.engine.worker import PollWorker
from herald.errors import HeraldError, StorageError
from herald.push.control import PushControl
from herald.push.runtime import PushRuntime
from herald.sources.base import Source, TokenKeeper
from herald.sources.registry import SourceRegistry
from herald.store.engagement import RedisEngagementStore
from herald.store.eventlog import EventLog
from herald.store.heartbeats import RedisHeartbeats
from herald.store.jobs import HeraldQueue
from herald.store.keys import Keys
from herald.store.push import RedisPushStore
from herald.store.redis import RedisHandle, open_redis
from herald.store.seen import RedisSeenStore
from herald.store.snapshot import RedisSnapshotStore
from herald.store.streams import StreamStore

if TYPE_CHECKING:
    from herald.alerts.host import AlertsHost
    from herald.alerts.service import AlertsManager
    from herald.archive.base import Archive
    from herald.archive.writer import ArchiveWriter
    from herald.browser.pool import BrowserPool
    from herald.commands.base import CommandsService
    from herald.commands.host import CommandsHost
    from herald.delivery import Delivery
    from herald.pipeline.runtime import PipelineControl, PipelineHost, PipelineSpec
    from herald.pipeline.runtime.pushmarks import PushMarks
    from herald.sources.x.accounts import AccountStore
    from herald.store.pipelines import PipelineStore
    from herald.store.secrets import Cipher
    from herald.webhooks.host import WebhookHost
    from herald.webhooks.service import WebhooksManager

log = logging.getLogger("herald")


class Herald:
    """The running service. Attributes are available between ``start()`` and ``stop()``."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        sources: Iterable[Source] | None = None,
        worker: bool = True,
        delivery: bool = True,
        worker_concurrency: int | None = None,
        pipelines: Iterable[PipelineSpec] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.keys = Keys(self.settings.redis_prefix)
        self._custom_sources = list(sources) if sources is not None else None
        self._want_worker = worker
        self._want_delivery = delivery
        self._concurrency = worker_concurrency or self.settings.worker_concurrency
        self._handle: RedisHandle | None = None
        self.worker: PollWorker | None = None
        self.push: PushRuntime | None = None
        """The push connections this process holds (with a worker, when a push source is
        served)."""
        self.delivery: Delivery | None = None
        self._started = False
        self._accounts: AccountStore | None = None
        self._custom_pipelines = list(pipelines) if pipelines is not None else None
        self.pipeline_host: PipelineHost | None = None
        self.alerts_host: AlertsHost | None = None
        self.commands: CommandsService | None = None
        """X writes (post, delete, like, retweet...) for every entry point; see commands.md."""
        self._commands_host: CommandsHost | None = None
        self.webhook_host: WebhookHost | None = None
        self._sealer: Cipher | None = None
        self._own_pool: BrowserPool | None = None
        self.archive: Archive | None = None
        """The archive (HERALD_ARCHIVE_URL), opened in every process; None when off."""
        self.archive_writer: ArchiveWriter | None = None

    # --- wiring ------------------------------------------------------------------
    @property
    def redis(self) -> Redis:
        if self._handle is None:
            raise HeraldError("herald is not started")
        return self._handle.client

    @property
    def redis_url(self) -> str:
        """The URL of the server in use (may hold a password: never log it)."""
        if self._handle is None:
            raise HeraldError("herald is not started")
        return self._handle.url

    @property
    def redis_display_url(self) -> str:
        return self._handle.display_url if self._handle else "(not connected)"

    @property
    def started(self) -> bool:
        return self._started

    async def start(self) -> Self:
        """Connect (starting the embedded server if configured), then the engine, delivery and
        worker. If any step fails, what was started is stopped again before the error
        propagates, so a failed start never leaves an embedded server running."""
        if self._started:
            return self
        self._handle = await open_redis(self.settings)
        try:
            await self._start_parts(self._handle.client)
        except BaseException:
            await self._teardown()
            raise
        self._started = True
        log.info("herald started on %s", self.redis_display_url)
        return self

    async def _start_parts(self, redis: Redis) -> None:
        s = self.settings
        self.store = StreamStore(redis, self.keys, ttl=s.state_ttl)
        self.log = EventLog(
            redis, self.keys, history_size=s.history_size, log_maxlen=s.log_maxlen, ttl=s.state_ttl
        )
        liveness = Liveness(RedisHeartbeats(redis, self.keys), self.store.locks)
        queue = HeraldQueue(redis, self.keys)
        self.scheduler = Scheduler(queue, liveness, job_timeout=s.poll_timeout + 2)
        self.sources = SourceRegistry(self._build_sources(redis))
        self.push_store = RedisPushStore(
            redis, self.keys, history_size=s.history_size, log_maxlen=s.log_maxlen, ttl=s.state_ttl
        )
        push_sources = self.sources.push_sources()
        push_by_type = {t: source for source in push_sources for t in source.stream_types}
        self._push_by_type = push_by_type
        self.poller = Poller(
            s,
            self.store,
            self.log,
            self.sources,
            seen=RedisSeenStore(redis, self.keys, limit=s.seen_limit, ttl=s.state_ttl),
            snapshots=RedisSnapshotStore(redis, self.keys, ttl=s.state_ttl),
            engagement=RedisEngagementStore(
                redis, self.keys, limit=s.tracked_tweets, ttl=s.state_ttl
            ),
        )
        self.manager = StreamManager(
            s,
            self.store,
            self.log,
            self.scheduler,
            self.poller,
            stream_types=self.sources.stream_types,
            register_token=self._register_token,
            push=PushControl(self.push_store, push_by_type),
        )
        if self._want_delivery:
            from herald.delivery import Delivery

            self.delivery = Delivery(s, redis, self.keys)
            await self.delivery.start()
        await self._start_pipelines(redis)
        self._start_commands(redis)
        await self._start_archive(redis)
        if self._want_worker:
            self.worker = PollWorker(
                self.scheduler,
                self.poller,
                self.store,
                concurrency=self._concurrency,
                reconcile_interval=s.reconcile_interval,
                sweep_interval=s.sweep_interval,
                heartbeat_ttl=s.worker_heartbeat_ttl,
                # In-flight polls get this long to finish on a stop; the rest are released
                # (their jobs go back to the queue), so a bounded stop loses no poll.
                shutdown_grace=s.shutdown_timeout,
            )
            await self.worker.start()
            await self.worker.reconcile()  # streams resume after a restart without any call
            if push_sources:
                self.push = PushRuntime(
                    s, self.store, self.log, self.push_store, push_sources, worker_id=self.worker.id
                )
                await self.push.start()

    async def _start_pipelines(self, redis: Redis) -> None:
        """Declared pipelines (HERALD_PIPELINES) run wherever a worker runs; every process
        can show and steer them (they are declared in Redis)."""
        import os
        import socket

        from herald.pipeline.runtime import PipelineControl, PipelineHost, load_declarations
        from herald.store.pipelines import PipelineStore

        s = self.settings
        specs = self._custom_pipelines
        if specs is None:
            specs = load_declarations(s.pipelines)
        store = PipelineStore(
            redis, self.keys, log_maxlen=s.log_maxlen, dead_max=s.pipeline_dead_letters
        )
        self.pipelines: PipelineControl = PipelineControl(store, {p.name: p for p in specs})
        if self._want_worker and specs:
            self.pipeline_host = PipelineHost(
                specs,
                store,
                self.store,
                worker_id=f"{socket.gethostname()}:{os.getpid()}",
                batch_size=s.pipeline_batch,
                lease_ttl=s.pipeline_lease_ttl,
                skew=s.pipeline_skew,
                log_maxlen=s.log_maxlen,
                push=self._push_marks(),
            )
            await self.pipeline_host.start()
        await self._start_alerts(redis, store)
        await self._start_webhooks(redis)

    async def _start_alerts(self, redis: Redis, store: PipelineStore) -> None:
        """The alerts service answers in every process; the evaluator runs where a worker
        runs (one owner at a time, through its lease)."""
        import os
        import socket

        from herald.alerts.host import AlertsHost
        from herald.alerts.service import AlertsManager
        from herald.store.alerts import RedisAlertStore

        s = self.settings
        rules = RedisAlertStore(redis, self.keys)
        self.alerts: AlertsManager = AlertsManager(rules, store, skew=s.pipeline_skew)
        if self._want_worker and s.alerts:
            self.alerts_host = AlertsHost(
                rules,
                store,
                self.store,
                worker_id=f"{socket.gethostname()}:{os.getpid()}",
                batch_size=s.pipeline_batch,
                lease_ttl=s.pipeline_lease_ttl,
                skew=s.pipeline_skew,
                block=s.alerts_block,
                lag_limit=max(s.log_maxlen // 2, 1),
                push=self._push_marks(),
            )
            await self.alerts_host.start()

    def _start_commands(self, redis: Redis) -> None:
        """Commands answer in every process; their reconciler runs where a worker runs."""
        from herald.commands.host import CommandsHost

        host = CommandsHost.build(
            self.settings, redis, self.keys, self.log, self.accounts(), reconcile=self._want_worker
        )
        self._commands_host, self.commands = host, host.service
        host.start()

    async def _start_webhooks(self, redis: Redis) -> None:
        """The webhooks service answers in every process; deliveries run where a worker
        runs (one owner per endpoint at a time, through its lease)."""
        import os
        import socket

        from herald.store.webhooks import RedisWebhookStore
        from herald.webhooks.consumer import Context
        from herald.webhooks.host import WebhookHost
        from herald.webhooks.schedule import Schedule, parse_schedule
        from herald.webhooks.sender import Limits
        from herald.webhooks.service import WebhooksManager

        s = self.settings
        store = RedisWebhookStore(
            redis,
            self.keys,
            attempts_kept=s.webhooks_attempts_kept,
            log_maxlen=s.log_maxlen,
            history_size=s.history_size,
            ttl=s.state_ttl,
        )
        limits = Limits(
            connect_timeout=s.webhooks_connect_timeout,
            timeout=s.webhooks_timeout,
            max_response=s.webhooks_max_response,
            allow_private=s.webhooks_allow_private,
        )
        cipher = self._cipher
        self.webhooks: WebhooksManager = WebhooksManager(store, self.log, cipher, limits)
        if self._want_worker and s.webhooks:
            ctx = Context(
                store,
                self.log,
                cipher,
                Schedule(parse_schedule(s.webhooks_schedule), jitter=s.webhooks_jitter),
                limits,
                lease_ttl=s.webhooks_lease_ttl,
                worker_id=f"{socket.gethostname()}:{os.getpid()}",
            )
            self.webhook_host = WebhookHost(ctx)
            await self.webhook_host.start()

    async def _start_archive(self, redis: Redis) -> None:
        """The archive answers searches in every process; its writer runs where a worker
        runs (one at a time, through its lease)."""
        import os
        import socket

        from herald.archive.factory import build_archive
        from herald.archive.writer import ArchiveWriter
        from herald.store.archive import ArchiveLogStore

        s = self.settings
        archive = build_archive(s)
        if archive is None:
            return
        try:
            await archive.open()
        except BaseException:
            await archive.close()
            raise
        self.archive = archive
        if self._want_worker:
            self.archive_writer = ArchiveWriter(
                archive,
                ArchiveLogStore(redis, self.keys),
                worker_id=f"{socket.gethostname()}:{os.getpid()}",
                batch_size=s.archive_batch,
                lease_ttl=s.pipeline_lease_ttl,
                retention_days=s.archive_retention_days,
                purge_interval=s.archive_purge_interval,
            )
            await self.archive_writer.start()

    def _push_marks(self) -> PushMarks:
        """Watermarks of push streams, from their connections' status."""
        from herald.pipeline.runtime.pushmarks import PushMarks

        return PushMarks(self.push_store, self._push_by_type, self.store)

    def _build_sources(self, redis: Redis) -> list[Source]:
        if self._custom_sources is not None:
            return self._custom_sources
        from herald.sources.catalog import build_sources

        return build_sources(self.settings, redis, self.keys)

    def _cipher(self) -> Cipher:
        """The secrets key, read (or made) on first use only."""
        if self._sealer is None:
            from herald.store.secrets import Cipher

            self._sealer = Cipher.from_settings(self.settings)
        return self._sealer

    def accounts(self) -> AccountStore:
        """The X session cookies, stored encrypted."""
        if self._accounts is None:
            from herald.sources.x.accounts import AccountStore
            from herald.store.secrets import Cipher

            s = self.settings
            self._accounts = AccountStore(
                self.redis,
                self.keys,
                Cipher.from_settings(s),
                log_maxlen=s.log_maxlen,
                ttl=s.state_ttl,
            )
        return self._accounts

    @property
    def browser_pool(self) -> BrowserPool:
        """The browser pool: the X source's (its fallback fetcher), else one of this
        Herald's own for the seed's pool API. Nothing launches until a page is asked for."""
        from herald.browser.pool import BrowserPool

        if hasattr(self, "sources"):
            with contextlib.suppress(HeraldError):
                pool = getattr(self.sources.for_type("tweet"), "browser_pool", None)
                if isinstance(pool, BrowserPool):
                    return pool
        if self._own_pool is None:
            self._own_pool = BrowserPool.from_settings(self.settings)
        return self._own_pool

    async def _register_token(self, token: str, stream_type: str) -> str:
        """A source that keeps its own tokens (Mastodon) stores it; else it is an X cookie."""
        source = self.sources.for_type(stream_type)
        if isinstance(source, TokenKeeper):
            return await source.register_token(token)
        account = await self.accounts().add(token, label="stream token")
        return account.id

    async def stop(self) -> None:
        """Graceful: in-flight polls finish (within ``HERALD_SHUTDOWN_TIMEOUT``), clients are
        told and disconnected, background tasks end, the embedded server stops."""
        if not self._started:
            return
        self._started = False
        await self._teardown()

    async def _stop_archive(self) -> None:
        """The writer finishes its batch (within the shutdown timeout), then the archive
        closes."""
        if self.archive_writer is not None:
            writer, self.archive_writer = self.archive_writer, None
            await writer.stop(grace=float(self.settings.shutdown_timeout))
        if self.archive is not None:
            archive, self.archive = self.archive, None
            await archive.close()

    async def _teardown(self) -> None:
        """Stop whatever has been started, in reverse order; the connection (and the embedded
        server) is closed even when an earlier step fails."""
        try:
            if self._commands_host is not None:
                commands, self._commands_host, self.commands = self._commands_host, None, None
                await commands.stop()
            if self.webhook_host is not None:
                hooks, self.webhook_host = self.webhook_host, None
                await hooks.stop()
            await self._stop_archive()
            if self.alerts_host is not None:
                alerts, self.alerts_host = self.alerts_host, None
                await alerts.stop(grace=float(self.settings.shutdown_timeout))
            if self.pipeline_host is not None:
                host, self.pipeline_host = self.pipeline_host, None
                await host.stop(grace=float(self.settings.shutdown_timeout))
            if self.push is not None:
                push, self.push = self.push, None
                await push.stop()
            if self.worker is not None:
                worker, self.worker = self.worker, None
                await worker.stop()
            if self.delivery is not None:
                delivery, self.delivery = self.delivery, None
                await delivery.stop()
            if hasattr(self, "sources"):
                await self.sources.aclose()
            if self._own_pool is not None:
                await self._own_pool.close_all()
            if hasattr(self, "scheduler"):
                await self.scheduler.aclose()
        finally:
            handle, self._handle = self._handle, None
            if handle is not None:
                await handle.aclose()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- health ------------------------------------------------------------------
    async def health(self) -> dict[str, Any]:
        """Redis reachable, scheduler alive, no stream stuck far past its next poll."""
        checks: dict[str, Any] = {}
        try:
            await self.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
        if self.worker is not None:
            checks["worker"] = "ok" if self.worker.alive else "stopped"
        if self.push is not None:
            checks["push"] = "ok" if self.push.alive else "stopped"
        if self.delivery is not None:
            checks["delivery"] = "ok" if await self.delivery.is_healthy() else "stopped"
        overdue: list[str] = []
        if checks["redis"] == "ok":
            grace = max(30.0, self.settings.poll_timeout * 2 + self.settings.reconcile_interval)
            overdue = await self.manager.overdue(grace)
            checks["overdueStreams"] = len(overdue)
        healthy = all(v in ("ok", 0) for v in checks.values())
        return {
            "status": "ok" if healthy else "degraded",
            "healthy": healthy,
            "checks": checks,
            "overdue": overdue[:20],
        }

    async def is_healthy(self) -> bool:
        try:
            return bool((await self.health())["healthy"])
        except StorageError:
            return False
