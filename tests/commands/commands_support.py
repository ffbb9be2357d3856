"""Helpers of the commands tests: a service over real parts, and reads of the log."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from herald.commands.reconcile import CommandReconciler
from herald.commands.service import STREAM_ID, CommandService
from herald.commands.xwriter import XWriter
from herald.config import Settings
from herald.sources.models import Tweet
from herald.sources.x.accounts import AccountStore
from herald.sources.x.client import XClient
from herald.sources.x.parse import parse_tweets, parse_user
from herald.store.commands import RedisCommandStore
from herald.store.eventlog import EventLog
from herald.store.keys import Keys
from herald.store.secrets import Cipher

ALICE_TOKEN = "a11ce0000000000000000000000000000000a11c"
"""alice's session token (synthetic): the stand-in writes as @alice for it."""


@dataclass
class Rig:
    redis: aioredis.Redis
    keys: Keys
    settings: Settings
    fakex: httpx.AsyncClient
    service: CommandService
    log: EventLog
    accounts: AccountStore
    twins: list[CommandService] = field(default_factory=list)

    @classmethod
    def build(
        cls, redis: aioredis.Redis, keys: Keys, settings: Settings, fakex: httpx.AsyncClient
    ) -> Rig:
        accounts = AccountStore(redis, keys, Cipher.from_settings(settings))
        log = EventLog(redis, keys)
        store = RedisCommandStore(redis, keys, ttl=3600)
        service = CommandService(settings, store, log, accounts, XWriter(settings, accounts))
        return cls(redis, keys, settings, fakex, service, log, accounts)

    def twin(self, *, clock: Callable[[], float] = time.time, **changes: Any) -> CommandService:
        """Another service over the same Redis (another API node or worker), closed with
        the rig; ``clock`` lets a test stand later in time (past a lease)."""
        settings = self.settings.model_copy(update=changes)
        accounts = AccountStore(self.redis, self.keys, Cipher.from_settings(settings))
        store = RedisCommandStore(self.redis, self.keys, ttl=3600)
        writer = XWriter(settings, accounts)
        service = CommandService(settings, store, self.log, accounts, writer, clock=clock)
        self.twins.append(service)
        return service

    def reconciler(self, service: CommandService | None = None) -> CommandReconciler:
        return CommandReconciler(service or self.service)

    async def aclose(self) -> None:
        for service in [self.service, *self.twins]:
            await service.aclose()

    async def requests(self) -> dict[str, int]:
        answer = await self.fakex.get("/_fakex/requests")
        answer.raise_for_status()
        counts: dict[str, int] = answer.json()["operations"]
        return counts

    async def fault(self, **body: Any) -> None:
        answer = await self.fakex.post("/_fakex/faults", json=body)
        answer.raise_for_status()

    async def events(self, command_id: str | None = None) -> list[dict[str, Any]]:
        """Command events in the global log (of one command), oldest first."""
        found = [
            e
            for e in await self.log.read(None, 10_000)
            if e.get("streamId") == STREAM_ID
            and (command_id is None or e.get("correlationId") == command_id)
        ]
        return found

    async def health_events(self) -> list[dict[str, Any]]:
        return [e for e in await self.log.read(None, 10_000) if e["type"] == "account:health"]

    async def timeline(self, username: str) -> list[Tweet]:
        """A user's timeline as herald's reader sees it (UserTweets through the X client)."""
        async with XClient(self.settings, ALICE_TOKEN) as client:
            user = parse_user(
                (await client.graphql("UserByScreenName", {"screen_name": username})).body
            )
            page = await client.graphql("UserTweets", {"userId": user.id})
        return parse_tweets(page.body).tweets


def command_settings(fakex_url: str, tmp_path: Path, key_prefix: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "x_base_url": fakex_url,
        "x_transaction_id": False,
        "poll_timeout": 1,
        "data_dir": tmp_path,
        "secret_key": "commands test key",
        "session_cookie": ALICE_TOKEN,
        "redis_prefix": key_prefix,
        "enable_writes": True,
        "write_limit_minute": 1000,
        "write_limit_hour": 10_000,
        "write_limit_day": 100_000,
        "command_settle_after": 30,
        **extra,
    }
    return Settings(**values)
