"""One :class:`XClient` per X account, shared by whoever acts as that account.

A client is kept for its connections, its ``ct0`` and its request signer; reads (the X
source) and writes (commands) each hold one cache. A changed cookie gets a new client, and
the old one is closed outside the lock.
"""

from __future__ import annotations

import asyncio

from herald.config import Settings
from herald.sources.x.accounts import AccountStore
from herald.sources.x.client import GeneratorFactory, XClient
from herald.sources.x.operations import Operations


class AccountClients:
    def __init__(
        self,
        settings: Settings,
        accounts: AccountStore,
        *,
        operations: Operations | None = None,
        transaction_ids: GeneratorFactory | None = None,
    ) -> None:
        self._settings = settings
        self._accounts = accounts
        self._operations = operations
        self._transaction_ids = transaction_ids
        self._clients: dict[str, tuple[str, XClient]] = {}
        self._lock = asyncio.Lock()

    async def get(self, account_id: str) -> tuple[XClient, bool]:
        """The account's client, and whether it is new (its cookie changed or none was kept)."""
        cookie = await self._accounts.cookie(account_id)
        async with self._lock:
            cached = self._clients.get(account_id)
            if cached is not None and cached[0] == cookie:
                return cached[1], False
            client = XClient(
                self._settings,
                cookie,
                operations=self._operations,
                transaction_ids=self._transaction_ids,
            )
            self._clients[account_id] = (cookie, client)
        if cached is not None:
            await cached[1].aclose()
        return client, True

    async def drop(self, account_id: str) -> None:
        """Forget the account's client (its session failed): the next call makes a new one."""
        async with self._lock:
            cached = self._clients.pop(account_id, None)
        if cached is not None:
            await cached[1].aclose()

    async def aclose(self) -> None:
        async with self._lock:
            clients, self._clients = self._clients, {}
        for _, client in clients.values():
            await client.aclose()
