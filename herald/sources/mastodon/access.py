"""Telling an empty public or hashtag timeline from one the instance disabled.

Since Mastodon 4.5 an admin sets who may read the live feeds (local and remote) and the
hashtag feeds: ``public``, ``authenticated`` (signed-in users) or ``disabled`` (staff only);
``/api/v2/instance`` says so in ``configuration.timelines_access``. An anonymous request to a
restricted feed is refused (401/403/422: the client reports that at once), but a signed-in
one may get an empty array. So when a timeline's first page is empty, herald reads the
instance's ``timelines_access`` (kept for :data:`TTL` seconds per instance): if every part
the stream reads is closed to its caller, the poll fails with :class:`TimelineDisabled`.
On the baseline of a public timeline, an instance that reports local posts
(``/api/v1/instance`` ``stats.status_count``) but shows none is reported the same way,
which also covers instances older than 4.5 that hide their timelines without saying so.
Otherwise an empty page is an empty timeline: nothing new.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from herald.errors import SourceError, TimelineDisabled
from herald.sources.mastodon.readers import Api

TTL = 300.0
OPEN = "public"


class AccessCache:
    """``timelines_access`` per instance, read at most once per :data:`TTL`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._known: dict[str, tuple[float, dict[str, Any]]] = {}

    async def timelines_access(self, api: Api) -> dict[str, Any]:
        cached = self._known.get(api.host)
        if cached is not None and self._clock() - cached[0] < TTL:
            return cached[1]
        try:
            answer = await api.get("/api/v2/instance", {}, what="the instance's settings")
        except SourceError:
            return {}  # an older or odd instance: nothing said, nothing concluded
        body = answer.body if isinstance(answer.body, dict) else {}
        access = (body.get("configuration") or {}).get("timelines_access") or {}
        access = access if isinstance(access, dict) else {}
        self._known[api.host] = (self._clock(), access)
        return access


def closed_parts(
    access: dict[str, Any], feed: str, parts: Sequence[str], authenticated: bool
) -> list[str]:
    """The parts of ``feed`` closed to the caller; empty when any part is open (or the
    instance says nothing)."""
    rules = access.get(feed)
    if not isinstance(rules, dict):
        return []
    closed = []
    for part in parts:
        value = rules.get(part, OPEN)
        if value == "disabled" or (value == "authenticated" and not authenticated):
            closed.append(f"{feed}.{part}={value}")
    return closed if len(closed) == len(parts) else []


async def check_empty(
    api: Api,
    cache: AccessCache,
    *,
    feed: str,
    parts: Sequence[str],
    what: str,
    count_posts: bool,
) -> None:
    """Raise :class:`TimelineDisabled` when an empty first page means "disabled"."""
    access = await cache.timelines_access(api)
    closed = closed_parts(access, feed, parts, api.authenticated)
    if closed:
        raise TimelineDisabled(
            f"{what} is disabled by the instance for this caller (timelines_access: "
            f"{', '.join(closed)}); it answers an empty list, not 'nothing new'"
            + ("" if api.authenticated else "; a stream with a user authToken may read it")
        )
    if not count_posts:
        return
    try:
        answer = await api.get("/api/v1/instance", {}, what="the instance's statistics")
    except SourceError:
        return
    stats = answer.body.get("stats") if isinstance(answer.body, dict) else None
    posts = stats.get("status_count") if isinstance(stats, dict) else None
    if isinstance(posts, int) and posts > 0:
        raise TimelineDisabled(
            f"{what} is empty although the instance reports {posts} local posts: treated as "
            "disabled by the instance for this caller, not as 'nothing new'"
        )
