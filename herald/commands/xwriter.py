"""X writes for commands: one client per account (its cookie from the account store, its
CSRF token and signer kept between writes), X's rate-limit budgets recorded per account as
the reads record theirs, and the account's own recent tweets for reconciliation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from herald.config import Settings
from herald.errors import RateLimited
from herald.sources.models import Tweet
from herald.sources.x.accounts import AccountStore
from herald.sources.x.answers import DEFAULT_RETRY_AFTER
from herald.sources.x.client import GeneratorFactory, XClient
from herald.sources.x.clients import AccountClients
from herald.sources.x.mutations import mutation, result_of
from herald.sources.x.operations import Operations
from herald.sources.x.parse import parse_tweets, parse_user
from herald.sources.x.ratelimit import Budget


class Writer(Protocol):
    """What the commands service asks of X (the stand-in's twin in tests is fakex itself)."""

    async def send(self, account_id: str, command_type: str, data: Mapping[str, Any]) -> Any:
        """Send the command's mutation once; its result, or a herald error."""
        ...

    async def own_tweets(self, account_id: str, *, replies: bool) -> list[Tweet]:
        """The account's newest tweets (with its replies when ``replies``), newest first."""
        ...

    async def aclose(self) -> None: ...


class XWriter:
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
        self._clients = AccountClients(
            settings, accounts, operations=operations, transaction_ids=transaction_ids
        )
        self._names: dict[str, str] = {}

    async def send(self, account_id: str, command_type: str, data: Mapping[str, Any]) -> Any:
        spec = mutation(command_type, data)
        client = await self._client(account_id)
        try:
            response = await client.graphql_post(spec.operation, spec.variables)
        except RateLimited as exc:
            reset = time.time() + (exc.retry_after or DEFAULT_RETRY_AFTER)
            await self._accounts.limits.record(account_id, spec.operation, Budget(0, reset))
            raise
        if response.budget is not None:
            await self._accounts.limits.record(account_id, spec.operation, response.budget)
        return result_of(command_type, data, response.body)

    async def own_tweets(self, account_id: str, *, replies: bool) -> list[Tweet]:
        client = await self._client(account_id)
        name = self._names.get(account_id)
        if name is None:
            name = await client.screen_name()
            self._names[account_id] = name
        user = parse_user((await client.graphql("UserByScreenName", {"screen_name": name})).body)
        operation = "UserTweetsAndReplies" if replies else "UserTweets"
        page = await client.graphql(operation, {"userId": user.id, "count": 40})
        return parse_tweets(page.body).tweets

    async def aclose(self) -> None:
        await self._clients.aclose()

    async def _client(self, account_id: str) -> XClient:
        client, new = await self._clients.get(account_id)
        if new:
            self._names.pop(account_id, None)  # a new cookie may be another account
        return client
