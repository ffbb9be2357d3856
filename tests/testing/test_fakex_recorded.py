"""``--fixtures``: the recorded user is answered from the recordings, with changes merged in."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from herald.sources.x import parse_tweets, parse_user, parse_users
from herald.testing.fakex.recordings import FILES
from tests.testing.fakex_support import graphql, session_client

RECORDED_ID = "2244994945"


async def op(client: httpx.AsyncClient, operation: str, **variables: Any) -> Any:
    r = await graphql(client, operation, **variables)
    assert r.status_code == 200, r.text
    return r.json()


def recording(fixtures_dir: Path, operation: str) -> Any:
    return json.loads((fixtures_dir / "x" / FILES[operation]).read_text("utf-8"))


async def test_untouched_recordings_parse_the_same(
    recorded: httpx.AsyncClient, fixtures_dir: Path
) -> None:
    user = await op(recorded, "UserByScreenName", screen_name="xdevelopers")
    assert parse_user(user) == parse_user(recording(fixtures_dir, "UserByScreenName"))
    tweets = await op(recorded, "UserTweets", userId=RECORDED_ID, count=20)
    assert parse_tweets(tweets) == parse_tweets(recording(fixtures_dir, "UserTweets"))
    followers = await op(recorded, "Followers", userId=RECORDED_ID, count=20)
    assert parse_users(followers) == parse_users(recording(fixtures_dir, "Followers"))
    search = await op(recorded, "SearchTimeline", rawQuery="@XDevelopers", count=20)
    assert parse_tweets(search) == parse_tweets(recording(fixtures_dir, "SearchTimeline"))


async def test_new_tweets_and_mentions_go_in_front(recorded: httpx.AsyncClient) -> None:
    own = await recorded.post("/_fakex/users/XDevelopers/tweets", json={"text": "new & shiny"})
    mention = await recorded.post("/_fakex/users/alice/tweets", json={"text": "hi @XDevelopers"})
    own_id, mention_id = own.json()["id"], mention.json()["id"]
    assert int(own_id) > 2083305234688803178  # above the newest recorded tweet
    page = parse_tweets(await op(recorded, "UserTweets", userId=RECORDED_ID, count=20))
    assert [t.id for t in page.tweets[:3]] == ["2019881223666233717", own_id, "2083305234688803178"]
    assert page.tweets[1].text == "new & shiny"
    assert (page.tweets[1].author, page.tweets[1].author_name) == ("XDevelopers", "Developers")
    assert len(page.tweets) == 22
    user = parse_user(await op(recorded, "UserByScreenName", screen_name="XDevelopers"))
    assert user.tweets_count == 4320
    search = parse_tweets(
        await op(recorded, "SearchTimeline", rawQuery="@XDevelopers -from:XDevelopers")
    )
    assert [(t.id, t.author) for t in search.tweets[:2]] == [
        (mention_id, "alice"),
        ("2074976613713031490", "piloly"),
    ]


async def test_followers_added_and_removed(recorded: httpx.AsyncClient) -> None:
    added = await recorded.post("/_fakex/users/XDevelopers/followers", json={"username": "newfan"})
    assert added.json()["followers"] == 695696
    removed = await recorded.delete("/_fakex/users/XDevelopers/followers/leslieberland")
    assert removed.json() == {"removed": True, "followers": 695695}
    gone = await recorded.delete("/_fakex/users/XDevelopers/followers/leslieberland")
    assert gone.status_code == 404
    page = parse_users(await op(recorded, "Followers", userId=RECORDED_ID, count=20))
    names = [u.username for u in page.users]
    assert names[:2] == ["newfan", "bonappetweet"] and "leslieberland" not in names
    assert len(names) == 69
    user = parse_user(await op(recorded, "UserByScreenName", screen_name="XDevelopers"))
    assert user.followers_count == 695695


async def test_a_cursor_leads_past_the_recording(recorded: httpx.AsyncClient) -> None:
    first = parse_users(await op(recorded, "Followers", userId=RECORDED_ID, count=20))
    assert first.cursor_bottom is not None
    second = await op(recorded, "Followers", userId=RECORDED_ID, cursor=first.cursor_bottom)
    assert parse_users(second).users == []
    more = await op(recorded, "UserTweets", userId=RECORDED_ID, cursor="anything")
    assert parse_tweets(more).tweets == []


async def test_synthetic_users_still_served(recorded: httpx.AsyncClient) -> None:
    alice = parse_user(await op(recorded, "UserByScreenName", screen_name="alice"))
    assert alice.followers_count == 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(60)
async def test_module_entry_point_serves_recordings(fixtures_dir: Path) -> None:
    """``python -m herald.testing.fakex --fixtures DIR`` in its own process, on a real port."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "herald.testing.fakex", "--port", str(port),
        "--fixtures", str(fixtures_dir),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with session_client(url) as client:
            for _ in range(200):
                try:
                    if (await client.get("/")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            user = parse_user(await op(client, "UserByScreenName", screen_name="XDevelopers"))
            assert user.followers_count == 695695
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) is not None
