"""The X readers' paging rules on pages in X's shape (built by fakex's templates)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from herald.sources.base import PollContext
from herald.sources.x.readers import read_tweets
from herald.testing.fakex import templates as t
from herald.testing.fakex.state import FakeTweet, FakeUser

USER = FakeUser("42", "alice", "Alice", datetime(2026, 1, 1, tzinfo=UTC))
AUTHOR = t.user_result(USER, t.Counts(followers=0, following=0, tweets=0))
OLD = [str(1_000_000 + i) for i in range(10)]  # seen by the last poll
NEW = [str(2_000_000 + i) for i in range(45)]


def result(tweet_id: str) -> dict[str, Any]:
    return t.tweet_result(FakeTweet(tweet_id, USER.id, f"tweet {tweet_id}"), AUTHOR, [])


def single(tweet_id: str) -> dict[str, Any]:
    return t.tweet_entry(result(tweet_id))


def thread(parent: str, reply: str) -> dict[str, Any]:
    """X's profile-conversation module: an old tweet of the user's and today's reply to it."""
    items = [
        {
            "entryId": f"profile-conversation-{reply}-tweet-{i}",
            "item": {"itemContent": single(i)["content"]["itemContent"]},
        }
        for i in (parent, reply)
    ]
    content = {
        "__typename": "TimelineTimelineModule",
        "entryType": "TimelineTimelineModule",
        "displayType": "VerticalConversation",
        "items": items,
    }
    return {"entryId": f"profile-conversation-{reply}", "content": content, "sortIndex": reply}


def page(entries: list[dict[str, Any]], bottom: str) -> dict[str, Any]:
    cursors = [t.cursor_entry("Top", "top", "9"), t.cursor_entry("Bottom", bottom, "1")]
    return t.user_tweets(entries, None, cursors)


async def test_an_old_tweet_in_a_thread_does_not_stop_the_paging() -> None:
    newest_first = NEW[::-1]
    first = [single(i) for i in newest_first[:14]]
    first += [thread(OLD[5], newest_first[14])]
    first += [single(i) for i in newest_first[15:20]]
    second = [single(i) for i in newest_first[20:]] + [single(i) for i in OLD[::-1]]
    pages = {None: page(first, "p2"), "p2": page(second, "p3")}
    asked: list[str | None] = []

    async def call(operation: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        assert operation == "UserTweets"
        asked.append(variables.get("cursor"))
        return pages[variables.get("cursor")]

    ctx = PollContext(
        stream_id="s1",
        type="tweet",
        username="alice",
        cursor={"userId": USER.id, "userFor": "alice"},
        baseline=False,
        high_water=int(OLD[-1]),
    )
    found = await read_tweets(call, ctx, max_pages=5)
    assert asked == [None, "p2"]
    assert found.gap is None
    assert set(NEW) <= {tweet.id for tweet in found.items}
