"""The commands service as a Herald runs it: built in every process (each entry point may
submit), its reconciler only where a worker runs."""

from __future__ import annotations

from redis.asyncio import Redis

from herald.commands.reconcile import CommandReconciler
from herald.commands.service import CommandService
from herald.commands.xwriter import Writer, XWriter
from herald.config import Settings
from herald.sources.x.accounts import AccountStore
from herald.store.commands import RedisCommandStore
from herald.store.eventlog import EventLog
from herald.store.keys import Keys


class CommandsHost:
    def __init__(self, service: CommandService, *, reconcile: bool) -> None:
        self.service = service
        self.reconciler = CommandReconciler(service) if reconcile else None

    @classmethod
    def build(
        cls,
        settings: Settings,
        redis: Redis,
        keys: Keys,
        log: EventLog,
        accounts: AccountStore,
        *,
        reconcile: bool,
        writer: Writer | None = None,
    ) -> CommandsHost:
        store = RedisCommandStore(redis, keys, ttl=settings.state_ttl)
        service = CommandService(
            settings, store, log, accounts, writer or XWriter(settings, accounts)
        )
        return cls(service, reconcile=reconcile)

    def start(self) -> None:
        if self.reconciler is not None:
            self.reconciler.start()

    async def stop(self) -> None:
        if self.reconciler is not None:
            await self.reconciler.stop()
        await self.service.aclose()
