"""fakex's search: any query, matched the simple way its module documents, paged like X."""

from __future__ import annotations

import httpx
import pytest

from herald.sources.x import parse_tweets
from herald.testing.fakex.search import parse_query
from tests.testing.fakex_support import Gql


@pytest.mark.parametrize(
    ("query", "text", "author", "found"),
    [
        ("#python", "I like #python", "bob", True),
        ("#python", "I like #pythonista", "bob", False),
        ("#python", "I like python", "bob", False),
        ("python", "I like #Python", "bob", True),
        ("python", "pythonic code", "bob", False),
        ("Python RUST", "rust and python", "bob", True),
        ("python rust", "python only", "bob", False),
        ('"release notes"', "the Release Notes are out", "bob", True),
        ('"release notes"', "notes on the release", "bob", False),
        ("python -django", "python and django", "bob", False),
        ("python -#django", "python and django", "bob", True),
        ("python from:alice", "python", "bob", False),
        ("python from:@alice", "python", "Alice", True),
        ("python -from:bob", "python", "bob", False),
        ("@alice -from:alice", "hi @alice!", "carol", True),
        ("@alice -from:alice", "hi @alicea", "carol", False),
        ("python lang:en filter:links", "python", "bob", True),
        ('"unbalanced python', "python unbalanced", "bob", True),
        ("alice's", "that is alice's post", "bob", True),
    ],
)
def test_query_terms(query: str, text: str, author: str, found: bool) -> None:
    assert parse_query(query).matches(text, author) is found


async def test_an_added_tweet_is_found_by_its_hashtag_and_paged_with_cursors(
    client: httpx.AsyncClient, gql: Gql
) -> None:
    posted = []
    for i in range(25):
        answer = await client.post("/_fakex/users/bob/tweets", json={"text": f"#herald news {i}"})
        assert answer.status_code == 201
        posted.append(answer.json()["id"])
    await client.post("/_fakex/users/carol/tweets", json={"text": "no tag here, herald"})
    first = parse_tweets((await gql("SearchTimeline", rawQuery="#herald", count=20)).json())
    assert [t.id for t in first.tweets] == posted[::-1][:20]
    assert first.cursor_bottom is not None
    second = parse_tweets(
        (
            await gql("SearchTimeline", rawQuery="#herald", count=20, cursor=first.cursor_bottom)
        ).json()
    )
    assert [t.id for t in second.tweets] == posted[::-1][20:]
    end = parse_tweets(
        (
            await gql("SearchTimeline", rawQuery="#herald", count=20, cursor=second.cursor_bottom)
        ).json()
    )
    assert end.tweets == [] and end.cursor_bottom is not None


async def test_a_query_that_finds_nothing_still_answers_with_cursors(gql: Gql) -> None:
    page = parse_tweets((await gql("SearchTimeline", rawQuery="#nothing_here")).json())
    assert page.tweets == [] and page.cursor_top and page.cursor_bottom
