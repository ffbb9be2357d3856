"""Paging proof on every paged stream type: more new items than ``HERALD_MAX_PAGES`` pages
hold give exactly one ``stream:gap`` before what was delivered, and nothing is lost silently.

Each row of ``CASES`` says how to watch something and how to post N new items to it through
the platform's stand-in; the test is the same for all of them. A platform adds its rows (and
a ``world`` that serves its stand-in) here.

"No silent loss" means: every posted item is delivered once, or the gap accounts for it. With
``missed`` the gap says how many (delivered + missed = posted); without it (X gives no count
of a timeline or a search) every item not delivered is older than every one delivered, so it
lies in the hole the gap announces, and none turns up later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from herald.config import Settings
from tests.engine.x_world import XWorld, x_world

MAX_PAGES = 2


class PagedWorld(Protocol):
    """A Herald polling one platform's stand-in by hand (see ``tests/engine/x_world.py``)."""

    async def start(self, kind: str, target: str, **options: Any) -> str: ...

    async def poll(self, stream_id: str) -> dict[str, Any]: ...

    async def events(self, stream_id: str, kind: str | None = None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class PagedCase:
    """One paged stream type: how to watch it, and how to post ``count`` new items to it."""

    id: str
    type: str
    target: str
    event: str
    """The event of one new item."""
    item_id: Callable[[dict[str, Any]], str]
    """An event -> the id of its item, as ``post`` returns them."""
    world: Callable[[Settings], AbstractAsyncContextManager[Any]]
    """A running Herald and stand-in, with ``HERALD_MAX_PAGES`` = ``MAX_PAGES``."""
    prepare: Callable[[Any], Awaitable[None]]
    """Make the target exist (before the stream starts)."""
    post: Callable[[Any, int, str], Awaitable[list[str]]]
    """Post ``n`` new items (texts tagged with the given word), oldest first: their ids."""
    count: int
    """How many items overflow ``MAX_PAGES`` pages on this stand-in."""
    options: dict[str, Any] = field(default_factory=dict)


# --- X ---------------------------------------------------------------------------------------
def x_paged(settings: Settings) -> AbstractAsyncContextManager[XWorld]:
    return x_world(settings, max_pages=MAX_PAGES)


async def x_user(world: XWorld, username: str, followers: int = 0) -> None:
    body = {"username": username, "followers": followers}
    await world.control("POST", "/users", json=body)


async def x_tweets(world: XWorld, author: str, texts: list[str]) -> list[str]:
    return [await world.tweet(author, text) for text in texts]


async def x_followers(world: XWorld, n: int, tag: str) -> list[str]:
    names = [f"{tag}{i}" for i in range(n)]
    for name in names:
        await world.control("POST", "/users/flood/followers", json={"username": name})
    return names


X_CASES = [
    PagedCase(
        id="x:tweet",
        type="tweet",
        target="flood",
        event="stream:tweet:new",
        item_id=lambda e: str(e["tweet"]["id"]),
        world=x_paged,
        prepare=lambda w: x_user(w, "flood"),
        post=lambda w, n, tag: x_tweets(w, "flood", [f"{tag} {i}" for i in range(n)]),
        count=55,  # 20 a page
    ),
    PagedCase(
        id="x:mention",
        type="mention",
        target="flood",
        event="stream:mention:new",
        item_id=lambda e: str(e["mention"]["id"]),
        world=x_paged,
        prepare=lambda w: x_user(w, "flood"),
        post=lambda w, n, tag: x_tweets(w, "bob", [f"@flood {tag} {i}" for i in range(n)]),
        count=55,
    ),
    PagedCase(
        id="x:search",
        type="x:search",
        target="#floodtag",
        event="stream:tweet:new",
        item_id=lambda e: str(e["tweet"]["id"]),
        world=x_paged,
        prepare=lambda w: x_user(w, "flood"),
        post=lambda w, n, tag: x_tweets(w, "carol", [f"#floodtag {tag} {i}" for i in range(n)]),
        count=55,
    ),
    PagedCase(
        # the page bound applies to followers above the snapshot limit (below it, a full
        # read tells everything); X counts followers, so the gap says how many were missed
        id="x:follower",
        type="follower",
        target="flood",
        event="stream:follower:new",
        item_id=lambda e: str(e["follower"]["username"]),
        world=x_paged,
        prepare=lambda w: x_user(w, "flood", followers=40),
        post=x_followers,
        count=150,  # the newest page of 20, then pages of 100
        options={"followerSnapshotLimit": 25},
    ),
]

CASES = [*X_CASES]


@pytest.fixture
def settings(redis_url: str, key_prefix: str) -> Settings:
    return Settings(
        redis_url=redis_url,
        redis_prefix=key_prefix,
        min_interval=0.1,
        poll_timeout=2,
        reconcile_interval=0.5,
        jitter=0,
    )


Offset = tuple[int, int]


def offset_of(event: dict[str, Any]) -> Offset:
    """The global log's offset (``ms-seq``) as something that sorts."""
    ms, _, seq = str(event["offset"]).partition("-")
    return int(ms), int(seq or 0)


def after(events: list[dict[str, Any]], offset: Offset) -> list[dict[str, Any]]:
    return [e for e in events if offset_of(e) > offset]


def last_offset(events: list[dict[str, Any]]) -> Offset:
    return max((offset_of(e) for e in events), default=(0, 0))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_a_poll_over_the_page_bound_gives_one_gap_and_loses_nothing_silently(
    settings: Settings, case: PagedCase
) -> None:
    async with case.world(settings) as world:
        await case.prepare(world)
        stream = await world.start(case.type, case.target, **case.options)
        assert (await world.poll(stream))["outcome"] == "baseline"
        mark = last_offset(await world.events(stream))

        posted = await case.post(world, case.count, "burst")
        assert (await world.poll(stream))["outcome"] == "ok"
        polled = after(await world.events(stream), mark)
        kinds = [e["type"] for e in polled]
        assert kinds.count("stream:gap") == 1, kinds
        gap = polled[kinds.index("stream:gap")]
        items = [e for e in polled if e["type"] == case.event]
        assert kinds.index("stream:gap") < kinds.index(case.event)  # the hole is older
        assert gap["pages"] == MAX_PAGES and gap["streamType"] == case.type
        assert "HERALD_MAX_PAGES" in gap["reason"] or "pages" in gap["reason"]

        delivered = [case.item_id(e) for e in items]
        assert len(delivered) == len(set(delivered)), "an item was announced twice"
        assert set(delivered) <= set(posted), "an item that was not posted"
        assert 0 < len(delivered) < len(posted), "the page bound did not apply"
        undelivered = [i for i in posted if i not in set(delivered)]
        if "missed" in gap:
            assert len(delivered) + gap["missed"] == len(posted), (len(delivered), gap)
        else:  # everything not delivered is older than everything delivered: in the hole
            assert set(delivered) == set(posted[len(undelivered) :]), "a silent loss"

        # the next poll starts from the newest: no second gap, nothing again
        mark = last_offset(await world.events(stream))
        await world.poll(stream)
        assert after(await world.events(stream), mark) == []

        # and it resumes: a few new items come once each, with no gap
        more = await case.post(world, 3, "later")
        await world.poll(stream)
        late = after(await world.events(stream), mark)
        assert "stream:gap" not in [e["type"] for e in late]
        late = [e for e in late if e["type"] == case.event]
        assert sorted(case.item_id(e) for e in late) == sorted(more)
        assert not set(undelivered) & {case.item_id(e) for e in late}
