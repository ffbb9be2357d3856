"""The X source: tweets, followers and mentions of one user, one search, or the account's
own direct messages, per poll, read with an account.

The per-type readers (``readers.py``) are plain functions over a ``call(operation,
variables)``; :class:`XSource` supplies a call that picks an account, keeps its health and
records X's rate-limit budgets in Redis, and the one-off pollers supply one that just uses a
cookie.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis

from herald import metrics
from herald.browser.pool import BrowserPool
from herald.config import Settings
from herald.errors import (
    AccountAuthFailed,
    AccountLocked,
    AccountSuspended,
    RateLimited,
    ValidationError,
)
from herald.sources.base import FetchResult, PollContext
from herald.sources.x.accounts import (
    Account,
    AccountNotFound,
    AccountStore,
    Health,
    NoUsableAccount,
    parse_cookie,
)
from herald.sources.x.answers import DEFAULT_RETRY_AFTER
from herald.sources.x.client import GeneratorFactory, XClient
from herald.sources.x.clients import AccountClients
from herald.sources.x.fallback import BROWSER, FIXABLE, GRAPHQL, BrowserFallback, on_path
from herald.sources.x.inbox import REST_PATHS, UPDATES, read_dms
from herald.sources.x.operations import Operations
from herald.sources.x.ratelimit import Budget
from herald.sources.x.readers import (
    Call,
    read_followers,
    read_mentions,
    read_search,
    read_tweets,
)
from herald.sources.x.types import ME
from herald.store.keys import Keys
from herald.store.secrets import Cipher

log = logging.getLogger(__name__)

NO_SESSION = "no X session: pass authToken, set HERALD_SESSION_COOKIE, or run herald accounts add"
# The endpoint whose budget decides which account polls a stream type.
PRIMARY_ENDPOINT = {
    "tweet": "UserTweets",
    "follower": "UserByScreenName",
    "mention": "SearchTimeline",
    "x:search": "SearchTimeline",
    "x:dm": UPDATES,
}
ACCOUNT_ATTEMPTS = 3


def _health_of(exc: AccountAuthFailed | AccountLocked | AccountSuspended) -> Health:
    if isinstance(exc, AccountLocked):
        return "locked"
    if isinstance(exc, AccountSuspended):
        return "suspended"
    return "auth_failed"


# --- the source ------------------------------------------------------------------------
class XSource:
    """X for the engine: account choice, health and shared budgets around the readers."""

    stream_types: tuple[str, ...] = ("tweet", "follower", "mention", "x:search", "x:dm")

    def __init__(
        self,
        settings: Settings,
        accounts: AccountStore,
        *,
        operations: Operations | None = None,
        transaction_ids: GeneratorFactory | None = None,
        browser_pool: BrowserPool | None = None,
    ) -> None:
        self._settings = settings
        self.accounts = accounts
        self._clients = AccountClients(
            settings, accounts, operations=operations, transaction_ids=transaction_ids
        )
        self.browser_pool = browser_pool or BrowserPool.from_settings(settings)
        self._owns_pool = browser_pool is None  # a pool handed in is its giver's to close
        self._fallback = BrowserFallback(settings, self.browser_pool)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        redis: aioredis.Redis,
        keys: Keys,
        *,
        browser_pool: BrowserPool | None = None,
    ) -> XSource:
        cipher = Cipher.from_settings(settings)
        accounts = AccountStore(
            redis, keys, cipher, log_maxlen=settings.log_maxlen, ttl=settings.state_ttl
        )
        return cls(settings, accounts, browser_pool=browser_pool)

    async def fetch(self, ctx: PollContext) -> FetchResult:
        if ctx.type not in PRIMARY_ENDPOINT:
            raise ValidationError(f"type: the X source reads {', '.join(self.stream_types)}")
        endpoint = PRIMARY_ENDPOINT[ctx.type]
        if ctx.type == "x:dm":
            return await self._fetch_inbox(ctx, endpoint)
        limited: RateLimited | None = None
        for _ in range(ACCOUNT_ATTEMPTS):
            try:
                account = await self._choose(ctx, endpoint)
            except RateLimited:
                if limited is not None:
                    raise limited from None  # X's own answer says more than "all spent"
                raise
            try:
                result = await self._serve(ctx, account, endpoint)
            except RateLimited as exc:
                limited = exc  # the budget is recorded: the next choice skips this account
                continue
            except (AccountAuthFailed, AccountLocked, AccountSuspended) as exc:
                await self.accounts.set_health(account.id, _health_of(exc), exc.detail)
                await self._drop_client(account.id)
                raise
            await self._used(account)
            return result
        assert limited is not None
        raise limited

    async def _used(self, account: Account) -> None:
        if account.health not in ("ok", "write_paused"):  # a read does not lift that
            await self.accounts.set_health(account.id, "ok")
        await self.accounts.touch(account.id)

    async def _fetch_inbox(self, ctx: PollContext, endpoint: str) -> FetchResult:
        """A direct-message inbox is one account's: read with that account or not at all,
        never with another one of the pool when its budget is spent."""
        account = await self._inbox_account(ctx)
        wait = await self.accounts.limits.check(account.id, endpoint)
        if wait is not None:
            raise RateLimited(
                f"X's rate limit for the direct-message inbox is spent on this account; "
                f"polling resumes after the reset, in {wait:.0f}s",
                retry_after=wait,
            )
        try:
            call = self._caller(account, endpoint)
            result = await read_dms(call, ctx, self._settings.max_pages, account.id)
        except (AccountAuthFailed, AccountLocked, AccountSuspended) as exc:
            await self.accounts.set_health(account.id, _health_of(exc), exc.detail)
            await self._drop_client(account.id)
            raise
        await self._used(account)
        return result

    async def _inbox_account(self, ctx: PollContext) -> Account:
        """``me``: the stream's own account (its authToken), else HERALD_SESSION_COOKIE's;
        otherwise the stored account with that id or label."""
        target = ctx.username
        if target == ME:
            if ctx.account_id:
                return await self.accounts.get(ctx.account_id)
            env = await self.accounts.env_account(self._settings.session_cookie)
            if env is None:
                raise NoUsableAccount(
                    "an x:dm stream of `me` reads the inbox of its authToken or of "
                    "HERALD_SESSION_COOKIE, and neither is set (or name a stored account)"
                )
            return env
        found = [a for a in await self.accounts.list() if target in (a.id, a.label)]
        if not found:
            raise AccountNotFound(
                f"no stored X account has the id or label {target!r}: add it with "
                "`herald accounts add --label`"
            )
        if len(found) > 1:
            raise AccountNotFound(
                f"several stored X accounts carry the label {target!r}: target one by its id"
            )
        if ctx.account_id and ctx.account_id != found[0].id:
            raise AccountAuthFailed(
                f"the stream's authToken is another account than {target!r}: one stream "
                "reads one inbox (start it with target `me` to read the authToken's)"
            )
        return found[0]

    async def aclose(self) -> None:
        await self._clients.aclose()
        if self._owns_pool:
            await self.browser_pool.close_all()

    def __repr__(self) -> str:
        return f"XSource(base_url={self._settings.x_base_url!r}, accounts={self.accounts!r})"

    # --- internals -------------------------------------------------------------
    async def _serve(self, ctx: PollContext, account: Account, endpoint: str) -> FetchResult:
        """GraphQL, or the browser path when it keeps being refused (see fallback.py)."""
        fallback = self._fallback if self._fallback.serves(ctx) else None
        on_browser = fallback is not None and fallback.on_browser(ctx)
        if fallback is not None and on_browser and not fallback.probe_due(ctx):
            result = await self._via_browser(fallback, ctx, account)
            return on_path(result, BROWSER, fallback.browser_polls(ctx) + 1)
        try:
            result = await self._read(ctx, self._caller(account, endpoint))
        except FIXABLE as exc:
            if fallback is None or not (on_browser or fallback.should_switch(ctx)):
                raise
            log.info(
                "stream %s: GraphQL refused (%s); reading through the browser",
                ctx.stream_id,
                type(exc).__name__,
            )
            result = await self._via_browser(fallback, ctx, account)
            return on_path(result, BROWSER, 0)
        metrics.X_FETCH_PATH.labels(GRAPHQL).inc()
        return on_path(result, GRAPHQL)

    async def _via_browser(
        self, fallback: BrowserFallback, ctx: PollContext, account: Account
    ) -> FetchResult:
        cookies = parse_cookie(await self.accounts.cookie(account.id))
        try:
            result = await fallback.fetch(ctx, account.id, cookies, self._read)
        except RateLimited as exc:  # the page's own calls spend the same budget
            reset = time.time() + (exc.retry_after or DEFAULT_RETRY_AFTER)
            await self.accounts.limits.record(
                account.id, PRIMARY_ENDPOINT[ctx.type], Budget(0, reset)
            )
            await self.accounts.set_health(account.id, "rate_limited", exc.detail)
            raise
        metrics.X_FETCH_PATH.labels(BROWSER).inc()
        return result

    async def _read(self, ctx: PollContext, call: Call) -> FetchResult:
        pages = self._settings.max_pages
        if ctx.type == "tweet":
            return await read_tweets(call, ctx, pages)
        if ctx.type == "mention":
            return await read_mentions(call, ctx, pages)
        if ctx.type == "x:search":
            return await read_search(call, ctx, pages)
        limit = int(
            ctx.options.get("followerSnapshotLimit", self._settings.follower_snapshot_limit)
        )
        return await read_followers(
            call,
            ctx,
            limit,
            max_pages=pages,
            resync_polls=self._settings.follower_resync_polls,
        )

    async def _choose(self, ctx: PollContext, endpoint: str) -> Account:
        """The stream's own account, else the env cookie's, else the pool's pick.

        A preferred account whose last verdict was bad is still tried when nothing healthy
        is left: its cookie may work again, and the poll then reports the real reason.
        """
        preferred = ctx.account_id
        env_cookie = None if preferred else self._settings.session_cookie
        try:
            return await self.accounts.pick(endpoint, preferred, env_cookie=env_cookie)
        except NoUsableAccount:
            if preferred is None and env_cookie and env_cookie.strip():
                preferred = self.accounts.env_id(env_cookie)
            if preferred is None:
                raise
            return await self.accounts.get(preferred)

    def _caller(self, account: Account, endpoint: str) -> Call:
        limits = self.accounts.limits

        async def call(operation: str, variables: Mapping[str, Any]) -> dict[str, Any]:
            client = await self._client(account.id)
            try:
                path = REST_PATHS.get(operation)
                if path is not None:
                    response = await client.rest(operation, path, variables)
                else:
                    response = await client.graphql(operation, variables)
            except RateLimited as exc:
                reset = time.time() + (exc.retry_after or DEFAULT_RETRY_AFTER)
                for spent in {operation, endpoint}:
                    await limits.record(account.id, spent, Budget(0, reset))
                await self.accounts.set_health(account.id, "rate_limited", exc.detail)
                raise
            if response.budget is not None:
                await limits.record(account.id, operation, response.budget)
            return response.body

        return call

    async def _client(self, account_id: str) -> XClient:
        return (await self._clients.get(account_id))[0]

    async def _drop_client(self, account_id: str) -> None:
        await self._clients.drop(account_id)
