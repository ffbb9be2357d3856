"""The RSS/Atom source: one conditional GET per poll, the feed parsed only when it changed.

The cursor carries the validators (``etag``, ``lastModified``), the entry/link memory
(``seen``, see :mod:`herald.sources.rss.memory`) and whether guid churn was reported
(``churnNoticed``). The poller saves it only when a poll commits, so an error leaves the
stream exactly as it was: the next good poll reports what is new since the last good one.
"""

from __future__ import annotations

import asyncio

from herald.config import Settings
from herald.errors import ValidationError
from herald.sources.base import FetchResult, Notice, PollContext
from herald.sources.rss.http import FeedClient, Validators
from herald.sources.rss.memory import Memory, review
from herald.sources.rss.parse import parse_feed

CHURN = "guid_churn"


def churn_notice(count: int) -> Notice:
    return Notice(
        kind=CHURN,
        message=(
            f"the feed re-issued {count} entr{'y' if count == 1 else 'ies'} already seen under "
            "new ids (guids) with the same links; herald treats them as seen and sends no "
            "events for them. This feed changes its entry ids: entries are matched by link "
            "from now on, and this notice is not repeated."
        ),
    )


class RssSource:
    """RSS and Atom feeds for the engine (stream type ``rss:feed``)."""

    stream_types: tuple[str, ...] = ("rss:feed",)

    def __init__(self, client: FeedClient, *, max_floor: float) -> None:
        self._client = client
        self._max_floor = max_floor

    @classmethod
    def from_settings(cls, settings: Settings) -> RssSource:
        client = FeedClient(
            max_bytes=settings.rss_max_bytes,
            timeout=settings.poll_timeout,
            max_wait=settings.max_interval,
        )
        return cls(client, max_floor=settings.max_interval)

    async def fetch(self, ctx: PollContext) -> FetchResult:
        if ctx.type not in self.stream_types:
            raise ValidationError(f"type: the RSS source reads {', '.join(self.stream_types)}")
        cursor = dict(ctx.cursor)
        sent = Validators(cursor.get("etag") or None, cursor.get("lastModified") or None)
        response = await self._client.get(ctx.username, sent)
        for key, value in (
            ("etag", response.validators.etag),
            ("lastModified", response.validators.last_modified),
        ):
            if value:
                cursor[key] = value
            else:
                cursor.pop(key, None)
        floor = self._floor(response.min_interval)
        if response.not_modified:
            return FetchResult(items=[], cursor=cursor, min_interval=floor)
        # tens of ms for a large feed: off the event loop, so delivery keeps flowing
        feed = await asyncio.to_thread(
            parse_feed, response.body, response.url, response.content_type
        )
        seen = review(
            feed.entries,
            Memory.load(cursor.get("seen")),
            baseline=ctx.baseline,
            high_water=ctx.high_water,
        )
        cursor["seen"] = seen.memory.dump()
        notices: tuple[Notice, ...] = ()
        if seen.churned and not cursor.get("churnNoticed"):
            notices = (churn_notice(len(seen.churned)),)
            cursor["churnNoticed"] = "1"
        return FetchResult(
            items=seen.items, cursor=cursor, gap=seen.gap, min_interval=floor, notices=notices
        )

    def _floor(self, seconds: float | None) -> float | None:
        """The upstream's wish, capped at HERALD_MAX_INTERVAL: a feed may slow herald down,
        never stop it."""
        if seconds is None or seconds <= 0:
            return None
        return min(seconds, self._max_floor)

    async def aclose(self) -> None:
        await self._client.aclose()

    def __repr__(self) -> str:
        return f"RssSource(max_bytes={self._client.max_bytes})"
