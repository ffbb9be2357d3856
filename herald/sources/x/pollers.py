"""The seed's one-off polls: one request burst with one cookie, answered in the seed's shapes.

They need no Redis and keep no state, so "new" is not theirs to decide: they return what X
shows now, newest first. Streams (with baselines and dedup) are the engine's business.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from herald.config import Settings
from herald.errors import AccountAuthFailed
from herald.sources.base import PollContext
from herald.sources.models import Item, Tweet
from herald.sources.x.client import XClient
from herald.sources.x.readers import Call, read_followers, read_mentions, read_tweets
from herald.sources.x.source import NO_SESSION


@asynccontextmanager
async def _call(auth_token: str | None, settings: Settings | None) -> AsyncIterator[Call]:
    settings = settings or Settings()
    cookie = auth_token or settings.session_cookie
    if not cookie:
        raise AccountAuthFailed(NO_SESSION)
    async with XClient(settings, cookie) as client:

        async def call(operation: str, variables: Mapping[str, Any]) -> dict[str, Any]:
            return (await client.graphql(operation, variables)).body

        yield call


def _context(kind: str, username: str) -> PollContext:
    return PollContext(stream_id=f"oneoff:{kind}:{username}", type=kind, username=username)


def _newest_first(items: Sequence[Item]) -> list[Tweet]:
    """X's readers return tweets; the engine's contract only promises items."""
    tweets = [item for item in items if isinstance(item, Tweet)]
    return sorted(tweets, key=lambda tweet: tweet.order, reverse=True)


async def poll_tweets(
    username: str, *, auth_token: str | None = None, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """The user's latest tweets as ``tweet`` payloads, newest first."""
    async with _call(auth_token, settings) as call:
        result = await read_tweets(call, _context("tweet", username))
    return [tweet.tweet_payload() for tweet in _newest_first(result.items)]


async def poll_mentions(
    username: str, *, auth_token: str | None = None, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """The latest tweets mentioning the user (not by the user), newest first."""
    async with _call(auth_token, settings) as call:
        result = await read_mentions(call, _context("mention", username))
    return [tweet.mention_payload() for tweet in _newest_first(result.items)]


async def poll_followers(
    username: str,
    *,
    auth_token: str | None = None,
    settings: Settings | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """``{followersCount, followers}``: the exact count and up to ``limit`` followers."""
    settings = settings or Settings()
    cap = settings.follower_snapshot_limit if limit is None else limit
    async with _call(auth_token, settings) as call:
        result = await read_followers(call, _context("follower", username), cap)
    snapshot = result.followers
    assert snapshot is not None  # a baseline read always carries the list
    return {
        "followersCount": snapshot.count,
        "followers": [user.follower_payload() for user in snapshot.followers or []],
        "complete": snapshot.complete,
    }
