"""The timeline window a read proves complete (for ``stream:tweet:deleted``): from the top
down to the last unpinned tweet read, only when the read ended where it should."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from test_x_readers import NEW, OLD, USER, page, single, thread

from herald.sources.base import PollContext
from herald.sources.x.readers import read_mentions, read_search, read_tweets
from herald.testing.fakex import templates as t


def context(high_water: int, *, kind: str = "tweet") -> PollContext:
    return PollContext(
        stream_id="s1",
        type=kind,
        username="alice",
        cursor={"userId": USER.id, "userFor": "alice"},
        baseline=False,
        high_water=high_water,
    )


def serve(pages: dict[str | None, dict[str, Any]]) -> Any:
    async def call(operation: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        return pages[variables.get("cursor")]

    return call


async def test_an_old_tweet_shown_with_a_reply_does_not_lower_the_floor() -> None:
    """X's conversation module shows the thread's start (old) before today's reply: the
    window ends at the reply, not at the start, or every tweet between would look gone."""
    newest_first = NEW[::-1]
    entries = [single(i) for i in newest_first[:5]] + [single(OLD[-1])]
    entries += [thread(OLD[2], OLD[-2])]  # the last entry: an old start and its reply
    found = await read_tweets(serve({None: page(entries, "p2")}), context(int(OLD[-1])))
    assert found.window is not None and found.window.floor == int(OLD[-2])
    assert int(OLD[2]) in {tweet.order for tweet in found.items}


async def test_the_floor_is_the_last_tweet_of_the_last_page_read() -> None:
    newest_first = NEW[::-1]
    first = [single(i) for i in newest_first[:20]]
    second = [single(i) for i in newest_first[20:]] + [single(i) for i in OLD[::-1][:3]]
    pages = {None: page(first, "p2"), "p2": page(second, "p3")}
    found = await read_tweets(serve(pages), context(int(OLD[-1])), max_pages=5)
    assert found.gap is None
    assert found.window is not None and found.window.floor == int(OLD[::-1][2])


async def test_a_read_cut_by_the_page_bound_proves_nothing() -> None:
    newest_first = NEW[::-1]
    pages = {None: page([single(i) for i in newest_first[:20]], "p2")}
    found = await read_tweets(serve(pages), context(int(OLD[-1])), max_pages=1)
    assert found.gap is not None and found.window is None


async def test_a_page_with_only_the_pinned_tweet_proves_nothing() -> None:
    pin = t.pin_entry(single(OLD[0])["content"]["itemContent"]["tweet_results"]["result"])
    cursors = [t.cursor_entry("Top", "top", "9"), t.cursor_entry("Bottom", "b", "1")]
    found = await read_tweets(serve({None: t.user_tweets([], pin, cursors)}), context(1))
    assert [tweet.pinned for tweet in found.items] == [True]
    assert found.window is None


async def test_searches_and_mentions_have_no_window() -> None:
    entries = [single(i) for i in NEW[::-1][:5]]
    cursors = [t.cursor_entry("Top", "top", "9"), t.cursor_entry("Bottom", "b", "1")]
    pages = {None: t.search(entries, cursors, first_page=True)}
    top = max(int(i) for i in NEW)
    found = await read_search(serve(pages), context(top, kind="x:search"))
    assert found.items and found.gap is None and found.window is None
    found = await read_mentions(serve(pages), context(top, kind="mention"))
    assert found.gap is None and found.window is None


async def test_the_recorded_timeline_window_ends_at_its_last_tweet(fixtures_dir: Path) -> None:
    """The recording: a pinned tweet from months before, retweets, and a conversation
    module (start, then reply) in the middle; the window runs from the top to the last."""
    raw = json.loads((fixtures_dir / "x" / "raw_user_tweets.json").read_text())

    async def call(operation: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        return raw

    found = await read_tweets(call, context(high_water=2_072_126_677_535_346_779))
    assert found.window is not None
    assert found.window.floor == 2_072_126_677_535_346_779
    pinned = [tweet for tweet in found.items if tweet.pinned]
    assert len(pinned) == 1 and pinned[0].order < found.window.floor
