"""The Mastodon source: one poll of a status, follower, mention, hashtag or public stream.

The instance comes from the stream's target; a client (one connection pool) is kept per
instance. A stream's ``authToken`` is a Mastodon access token, stored encrypted
(:class:`~herald.store.mastodon_tokens.MastodonTokens`); the stream keeps only its id.
Rate-limit budgets are shared by every worker (:mod:`herald.store.ratelimit`, scope
``mastodon:{instance}:{token id or anon}``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from herald.config import Settings
from herald.errors import AccountAuthFailed, ValidationError
from herald.sources.base import FetchResult, PollContext
from herald.sources.mastodon.access import AccessCache, check_empty
from herald.sources.mastodon.client import Answer, MastodonClient
from herald.sources.mastodon.readers import (
    read_followers,
    read_mentions,
    read_pages,
    read_statuses,
    tag_path,
)
from herald.sources.mastodon.targets import split_target
from herald.store.keys import Keys
from herald.store.mastodon_tokens import MastodonTokens
from herald.store.ratelimit import RateLimitStore, RedisRateLimits
from herald.store.secrets import Cipher

TYPES = (
    "mastodon:status",
    "mastodon:follower",
    "mastodon:mention",
    "mastodon:hashtag",
    "mastodon:public",
)


@dataclass(slots=True)
class BoundApi:
    """A client with the stream's caller bound: what the readers call."""

    client: MastodonClient
    token: str | None
    token_id: str | None

    @property
    def host(self) -> str:
        return str(self.client.instance)

    @property
    def authenticated(self) -> bool:
        return self.token is not None

    async def get(
        self, path: str, params: dict[str, Any], *, what: str, timeline: bool = False
    ) -> Answer:
        return await self.client.get(
            path,
            params,
            token=self.token,
            token_id=self.token_id,
            what=what,
            timeline=timeline,
        )


class MastodonSource:
    stream_types: tuple[str, ...] = TYPES

    def __init__(self, settings: Settings, tokens: MastodonTokens, limits: RateLimitStore) -> None:
        self._settings = settings
        self.tokens = tokens
        self.limits = limits
        self.access = AccessCache()
        self._clients: dict[str, MastodonClient] = {}
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, redis: aioredis.Redis, keys: Keys) -> MastodonSource:
        tokens = MastodonTokens(redis, keys, Cipher.from_settings(settings))
        return cls(settings, tokens, RedisRateLimits(redis, keys))

    async def register_token(self, token: str) -> str:
        """Store a stream's access token (encrypted); its id stands for it from then on."""
        return await self.tokens.add(token)

    async def fetch(self, ctx: PollContext) -> FetchResult:
        if ctx.type not in TYPES:
            raise ValidationError(f"type: the Mastodon source reads {', '.join(TYPES)}")
        name, instance = split_target(ctx.username)
        token = await self.tokens.token(ctx.account_id) if ctx.account_id else None
        async with self._lock:
            client = self._clients.get(instance.netloc)
            if client is None:
                client = MastodonClient(instance, self.limits, timeout=self._settings.poll_timeout)
                self._clients[instance.netloc] = client
        api = BoundApi(client, token, ctx.account_id if token else None)
        s = self._settings
        pages, size = s.max_pages, s.mastodon_page_size
        if ctx.type == "mastodon:status":
            assert name is not None
            return await read_statuses(api, ctx, name, max_pages=pages, page_size=size)
        if ctx.type == "mastodon:follower":
            assert name is not None
            limit = int(ctx.options.get("followerSnapshotLimit", s.follower_snapshot_limit))
            return await read_followers(
                api, ctx, name, limit, max_pages=pages, resync_polls=s.follower_resync_polls
            )
        if ctx.type == "mastodon:mention":
            if token is None:
                raise AccountAuthFailed(
                    "a mastodon:mention stream needs the account's access token: start it "
                    "with authToken (a token with the read:notifications scope)"
                )
            return await read_mentions(api, ctx, name, max_pages=pages, page_size=size)
        return await self._timeline(api, ctx, name)

    async def _timeline(self, api: BoundApi, ctx: PollContext, tag: str | None) -> FetchResult:
        s = self._settings
        params: dict[str, Any] = {}
        if ctx.type == "mastodon:hashtag":
            assert tag is not None
            path, what, feed = tag_path(tag), f"the #{tag} timeline of {api.host}", "hashtag_feeds"
            parts: tuple[str, ...] = ("local", "remote")
        else:
            local = bool(ctx.options.get("local"))
            path, feed = "/api/v1/timelines/public", "live_feeds"
            what = f"the {'local' if local else 'federated'} timeline of {api.host}"
            parts = ("local",) if local else ("local", "remote")
            if local:
                params["local"] = "true"
        statuses, gap, empty = await read_pages(
            api,
            path,
            params,
            ctx,
            max_pages=s.max_pages,
            page_size=s.mastodon_page_size,
            what=what,
            timeline=True,
        )
        if empty:
            await check_empty(
                api,
                self.access,
                feed=feed,
                parts=parts,
                what=what,
                count_posts=ctx.type == "mastodon:public" and ctx.high_water <= 0,
            )
        return FetchResult(items=statuses, gap=gap, cursor=dict(ctx.cursor))

    async def aclose(self) -> None:
        async with self._lock:
            clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    def __repr__(self) -> str:
        return f"MastodonSource(instances={sorted(self._clients)!r})"
