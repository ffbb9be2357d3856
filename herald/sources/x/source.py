"""The X source: tweets, followers and mentions of one user per poll, read with an account.

The per-type readers (:func:`read_tweets`, :func:`read_followers`, :func:`read_mentions`) are
plain functions over a ``call(operation, variables)``; :class:`XSource` supplies a call that
picks an account, keeps its health and records X's rate-limit budgets in Redis, and the
one-off pollers supply one that just uses a cookie.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import redis.asyncio as aioredis

from herald.config import Settings
from herald.errors import (
    AccountAuthFailed,
    AccountLocked,
    AccountSuspended,
    EmptyResponse,
    RateLimited,
    ValidationError,
)
from herald.sources.base import FetchResult, FollowerSnapshot, PollContext
from herald.sources.models import TweetPage, User
from herald.sources.x.accounts import Account, AccountStore, Health, NoUsableAccount
from herald.sources.x.client import DEFAULT_RETRY_AFTER, GeneratorFactory, XClient
from herald.sources.x.operations import Operations
from herald.sources.x.parse import parse_tweets, parse_user, parse_users
from herald.sources.x.ratelimit import Budget
from herald.store.keys import Keys
from herald.store.secrets import Cipher

log = logging.getLogger(__name__)

Call = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]

NO_SESSION = "no X session: pass authToken, set HERALD_SESSION_COOKIE, or run herald accounts add"
# The endpoint whose budget decides which account polls a stream type.
PRIMARY_ENDPOINT = {
    "tweet": "UserTweets",
    "follower": "UserByScreenName",
    "mention": "SearchTimeline",
}
ACCOUNT_ATTEMPTS = 3


# --- readers ---------------------------------------------------------------------------
def _screen_name(username: str) -> str:
    return username.strip().lstrip("@")


def _require_entries(page: TweetPage, what: str, name: str) -> None:
    """No entries at all, not even cursors, is X failing quietly, not "nothing new"."""
    if not page.tweets and page.cursor_top is None and page.cursor_bottom is None:
        raise EmptyResponse(
            f"X returned an empty {what} for @{name}: treated as a failed fetch, "
            "not as 'nothing new'"
        )


async def _user(call: Call, name: str) -> User:
    return parse_user(await call("UserByScreenName", {"screen_name": name}))


async def read_tweets(call: Call, ctx: PollContext) -> FetchResult:
    """The user's latest timeline page (pinned tweet included, flagged); the user id is
    cached in the cursor so later polls cost one request."""
    name = _screen_name(ctx.username)
    user_id = ctx.cursor.get("userId") if ctx.cursor.get("userFor") == name.lower() else None
    if not user_id:
        user_id = (await _user(call, name)).id
    page = parse_tweets(await call("UserTweets", {"userId": user_id}))
    _require_entries(page, "timeline", name)
    return FetchResult(items=page.tweets, cursor={"userId": user_id, "userFor": name.lower()})


async def read_mentions(call: Call, ctx: PollContext) -> FetchResult:
    """The latest search for ``@user``, without the user's own tweets."""
    name = _screen_name(ctx.username)
    raw = await call("SearchTimeline", {"rawQuery": f"@{name} -from:{name}", "product": "Latest"})
    page = parse_tweets(raw)
    _require_entries(page, "timeline", name)
    mentions = [t for t in page.tweets if t.author.lower() != name.lower()]
    return FetchResult(items=mentions, cursor=dict(ctx.cursor))


async def read_followers(call: Call, ctx: PollContext, limit: int) -> FetchResult:
    """The exact profile count every poll; the list only on baseline or when it changed."""
    name = _screen_name(ctx.username)
    user = await _user(call, name)
    count = user.followers_count or 0
    cursor = {"userId": user.id, "userFor": name.lower()}
    if not ctx.baseline and ctx.previous_count == count:
        return FetchResult(followers=FollowerSnapshot(count, None, False), cursor=cursor)
    followers, ended = await _follower_list(call, user.id, name, limit, count)
    complete = count <= limit and (ended or len(followers) >= count)
    return FetchResult(followers=FollowerSnapshot(count, followers, complete), cursor=cursor)


async def _follower_list(
    call: Call, user_id: str, name: str, limit: int, count: int
) -> tuple[list[User], bool]:
    """Followers page by page up to ``limit``; says whether the list was read to its end."""
    if count == 0 or limit == 0:
        return [], count == 0
    seen: dict[str, User] = {}
    cursor: str | None = None
    for page_number in range(limit // 10 + 5):
        variables: dict[str, Any] = {"userId": user_id}
        if cursor:
            variables["cursor"] = cursor
        page = parse_users(await call("Followers", variables))
        if page_number == 0 and not page.users and not (page.cursor_top or page.cursor_bottom):
            raise EmptyResponse(
                f"X returned an empty follower list for @{name} (profile count {count}): "
                "treated as a failed fetch"
            )
        before = len(seen)
        for user in page.users:
            seen.setdefault(user.id, user)
        if len(seen) >= limit:
            return list(seen.values())[:limit], len(seen) >= count
        if not page.cursor_bottom or page.cursor_bottom == cursor or len(seen) == before:
            return list(seen.values()), True
        cursor = page.cursor_bottom
    return list(seen.values()), False


def _health_of(exc: AccountAuthFailed | AccountLocked | AccountSuspended) -> Health:
    if isinstance(exc, AccountLocked):
        return "locked"
    if isinstance(exc, AccountSuspended):
        return "suspended"
    return "auth_failed"


# --- the source ------------------------------------------------------------------------
class XSource:
    """X for the engine: account choice, health and shared budgets around the readers."""

    stream_types: tuple[str, ...] = ("tweet", "follower", "mention")

    def __init__(
        self,
        settings: Settings,
        accounts: AccountStore,
        *,
        operations: Operations | None = None,
        transaction_ids: GeneratorFactory | None = None,
    ) -> None:
        self._settings = settings
        self.accounts = accounts
        self._operations = operations
        self._transaction_ids = transaction_ids
        self._clients: dict[str, tuple[str, XClient]] = {}
        self._clients_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, redis: aioredis.Redis, keys: Keys) -> XSource:
        return cls(settings, AccountStore(redis, keys, Cipher.from_settings(settings)))

    async def fetch(self, ctx: PollContext) -> FetchResult:
        if ctx.type not in PRIMARY_ENDPOINT:
            raise ValidationError(f"type: the X source reads {', '.join(self.stream_types)}")
        endpoint = PRIMARY_ENDPOINT[ctx.type]
        limited: RateLimited | None = None
        for _ in range(ACCOUNT_ATTEMPTS):
            try:
                account = await self._choose(ctx, endpoint)
            except RateLimited:
                if limited is not None:
                    raise limited from None  # X's own answer says more than "all spent"
                raise
            try:
                result = await self._read(ctx, self._caller(account, endpoint))
            except RateLimited as exc:
                limited = exc  # the budget is recorded: the next choice skips this account
                continue
            except (AccountAuthFailed, AccountLocked, AccountSuspended) as exc:
                await self.accounts.set_health(account.id, _health_of(exc), exc.detail)
                await self._drop_client(account.id)
                raise
            if account.health != "ok":
                await self.accounts.set_health(account.id, "ok")
            await self.accounts.touch(account.id)
            return result
        assert limited is not None
        raise limited

    async def aclose(self) -> None:
        async with self._clients_lock:
            clients, self._clients = self._clients, {}
        for _, client in clients.values():
            await client.aclose()

    def __repr__(self) -> str:
        return f"XSource(base_url={self._settings.x_base_url!r}, accounts={self.accounts!r})"

    # --- internals -------------------------------------------------------------
    async def _read(self, ctx: PollContext, call: Call) -> FetchResult:
        if ctx.type == "tweet":
            return await read_tweets(call, ctx)
        if ctx.type == "mention":
            return await read_mentions(call, ctx)
        limit = int(
            ctx.options.get("followerSnapshotLimit", self._settings.follower_snapshot_limit)
        )
        return await read_followers(call, ctx, limit)

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
        """One client per account, kept for its connections, ct0 and request signer."""
        cookie = await self.accounts.cookie(account_id)
        async with self._clients_lock:
            cached = self._clients.get(account_id)
            if cached is not None and cached[0] == cookie:
                return cached[1]
            client = XClient(
                self._settings,
                cookie,
                operations=self._operations,
                transaction_ids=self._transaction_ids,
            )
            self._clients[account_id] = (cookie, client)
        if cached is not None:
            await cached[1].aclose()
        return client

    async def _drop_client(self, account_id: str) -> None:
        async with self._clients_lock:
            cached = self._clients.pop(account_id, None)
        if cached is not None:
            await cached[1].aclose()
