"""fakex pages like X: cursor entries in the recorded shape, and a Bottom cursor that leads to
the next page, page after page, until an empty one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from herald.sources.models import TweetPage
from herald.sources.x import parse_tweets
from tests.testing.fakex_support import Gql, graphql

RECORDED_ID = "2244994945"

INSTRUCTIONS = {
    "UserTweets": ("raw_user_tweets.json", "data.user.result.timeline.timeline.instructions"),
    "SearchTimeline": (
        "raw_search.json",
        "data.search_by_raw_query.search_timeline.timeline.instructions",
    ),
    "Followers": ("raw_followers.json", "data.user.result.timeline.timeline.instructions"),
}


def dig(doc: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        doc = doc[key]
    return doc


def cursor_entries(doc: dict[str, Any], dotted: str) -> list[dict[str, Any]]:
    """Every cursor entry of a timeline answer, added or replaced."""
    found = []
    for instruction in dig(doc, dotted):
        entries = instruction.get("entries", [])
        if "entry" in instruction:
            entries = [instruction["entry"]]
        found += [e for e in entries if e["content"].get("entryType") == "TimelineTimelineCursor"]
    return found


def shape(value: Any) -> Any:
    """Keys and value types, recursively: what must match, values aside."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__


async def pages(gql: Gql, operation: str, limit: int = 10, **variables: Any) -> list[TweetPage]:
    """Follow the Bottom cursor until a page without tweets (or ``limit`` pages)."""
    found: list[TweetPage] = []
    cursor = None
    for _ in range(limit):
        extra = {"cursor": cursor} if cursor else {}
        page = parse_tweets((await gql(operation, count=20, **variables, **extra)).json())
        found.append(page)
        unpinned = [t for t in page.tweets if not t.pinned]
        if not unpinned:
            break
        assert page.cursor_bottom and page.cursor_bottom != cursor
        cursor = page.cursor_bottom
    return found


async def user_id(gql: Gql, username: str) -> str:
    body = (await gql("UserByScreenName", screen_name=username)).json()
    return str(body["data"]["user"]["result"]["rest_id"])


@pytest.mark.parametrize("operation", list(INSTRUCTIONS))
async def test_cursor_entries_have_the_recorded_shape(
    operation: str, fixtures_dir: Path, client: httpx.AsyncClient, gql: Gql
) -> None:
    name, dotted = INSTRUCTIONS[operation]
    recorded = json.loads((fixtures_dir / "x" / name).read_text("utf-8"))
    expected = {e["content"]["cursorType"]: e for e in cursor_entries(recorded, dotted)}
    assert set(expected) == {"Top", "Bottom"}
    await client.post("/_fakex/users", json={"username": "paged", "followers": 30})
    for i in range(30):
        await client.post("/_fakex/users/paged/tweets", json={"text": f"hi @alice {i}"})
    uid = await user_id(gql, "paged")
    variables = {"rawQuery": "@alice"} if operation == "SearchTimeline" else {"userId": uid}
    first = (await gql(operation, count=20, **variables)).json()
    served = {e["content"]["cursorType"]: e for e in cursor_entries(first, dotted)}
    assert set(served) == {"Top", "Bottom"}
    for kind, entry in served.items():
        assert shape(entry) == shape(expected[kind])
        assert entry["entryId"].startswith(f"cursor-{kind.lower()}-")
        assert entry["content"]["__typename"] == "TimelineTimelineCursor"
    bottom = served["Bottom"]["content"]["value"]
    second = (await gql(operation, count=20, cursor=bottom, **variables)).json()
    later = {e["content"]["cursorType"]: e for e in cursor_entries(second, dotted)}
    assert {kind: shape(e) for kind, e in later.items()} == {
        kind: shape(expected[kind]) for kind in later
    }


async def test_a_timeline_of_45_new_tweets_pages_20_20_5_then_older(
    client: httpx.AsyncClient, gql: Gql
) -> None:
    posted = [
        (await client.post("/_fakex/users/alice/tweets", json={"text": f"n{i}"})).json()["id"]
        for i in range(45)
    ]
    found = await pages(gql, "UserTweets", userId=await user_id(gql, "alice"))
    # alice: a pinned old tweet (first page only), 2 other old ones, then the 45
    assert [sum(t.pinned for t in p.tweets) for p in found] == [1, 0, 0, 0]
    unpinned = [[t.id for t in p.tweets if not t.pinned] for p in found]
    assert [len(ids) for ids in unpinned] == [20, 20, 7, 0]
    ids = [i for page in unpinned for i in page]
    assert ids[:45] == posted[::-1] and len(set(ids)) == len(ids)
    assert [int(i) for i in ids] == sorted((int(i) for i in ids), reverse=True)


async def test_a_search_pages_with_replaced_cursors(client: httpx.AsyncClient, gql: Gql) -> None:
    posted = [
        (await client.post("/_fakex/users/bob/tweets", json={"text": f"@carol {i}"})).json()["id"]
        for i in range(45)
    ]
    found = await pages(gql, "SearchTimeline", rawQuery="@carol -from:carol")
    ids = [t.id for p in found for t in p.tweets]
    assert [len(p.tweets) for p in found] == [20, 20, 6, 0]  # 45 and bob's old "cc @carol"
    assert ids[:45] == posted[::-1] and len(set(ids)) == 46
    raw = (await gql("SearchTimeline", rawQuery="@carol", count=20)).json()
    bottom = parse_tweets(raw).cursor_bottom
    later = (await gql("SearchTimeline", rawQuery="@carol", count=20, cursor=bottom)).json()
    instructions = dig(later, INSTRUCTIONS["SearchTimeline"][1])
    assert [i["type"] for i in instructions] == [
        "TimelineAddEntries",
        "TimelineReplaceEntry",
        "TimelineReplaceEntry",
    ]


async def test_the_recorded_user_pages_what_was_added_then_the_recording(
    recorded: httpx.AsyncClient, fixtures_dir: Path
) -> None:
    raw = json.loads((fixtures_dir / "x" / INSTRUCTIONS["UserTweets"][0]).read_text("utf-8"))
    recorded_ids = [t.id for t in parse_tweets(raw).tweets if not t.pinned]
    posted = [
        (await recorded.post("/_fakex/users/XDevelopers/tweets", json={"text": f"n{i}"})).json()[
            "id"
        ]
        for i in range(45)
    ]

    async def call(operation: str, **variables: Any) -> httpx.Response:
        return await graphql(recorded, operation, **variables)

    found = await pages(call, "UserTweets", userId=RECORDED_ID)
    assert [sum(t.pinned for t in p.tweets) for p in found] == [1, 0, 0, 0]
    unpinned = [[t.id for t in p.tweets if not t.pinned] for p in found]
    assert [len(ids) for ids in unpinned] == [20, 20, 5 + len(recorded_ids), 0]
    assert [i for page in unpinned for i in page] == posted[::-1] + recorded_ids
    # the page holding the recording carries the recording's own cursors
    assert found[2].cursor_bottom == parse_tweets(raw).cursor_bottom
