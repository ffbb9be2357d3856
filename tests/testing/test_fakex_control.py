"""The control API drives what the GraphQL operations answer (parsed with herald's parsers)."""

from __future__ import annotations

import httpx

from herald.sources.x import parse_tweets, parse_user, parse_users
from tests.testing.fakex_support import Gql


async def user(gql: Gql, name: str) -> tuple[str, int]:
    parsed = parse_user((await gql("UserByScreenName", screen_name=name)).json())
    assert parsed.followers_count is not None
    return parsed.id, parsed.followers_count


async def test_seeded_users(gql: Gql) -> None:
    for name, followers in (("alice", 2), ("bob", 1), ("carol", 0)):
        parsed = parse_user((await gql("UserByScreenName", screen_name=name)).json())
        assert (parsed.username, parsed.followers_count) == (name, followers)
    alice_id, _ = await user(gql, "alice")
    page = parse_tweets((await gql("UserTweets", userId=alice_id, count=20)).json())
    assert [t.pinned for t in page.tweets] == [True, False, False]
    assert page.tweets[0].text == "Hello from alice, this is my pinned tweet."
    assert page.tweets[1].text == "Third tweet: timelines are newest first."
    assert page.tweets[2].text == "Reading about snowflake ids <3 & Redis streams"
    assert int(page.tweets[1].id) > int(page.tweets[2].id) > int(page.tweets[0].id)
    assert page.tweets[1].timestamp == "2026-01-05T09:35:00Z"


async def test_create_user_with_followers(client: httpx.AsyncClient, gql: Gql) -> None:
    created = await client.post(
        "/_fakex/users", json={"username": "dave", "name": "Dave", "followers": 30}
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["username"], body["name"], body["followers"]) == ("dave", "Dave", 30)
    user_id, count = await user(gql, "dave")
    assert (user_id, count) == (body["id"], 30)
    again = await client.post("/_fakex/users", json={"username": "DAVE"})
    assert again.status_code == 200 and again.json()["id"] == user_id
    bad = await client.post("/_fakex/users", json={"username": "no spaces"})
    assert bad.status_code == 422


async def test_followers_list_matches_the_count_and_is_newest_first(
    client: httpx.AsyncClient, gql: Gql
) -> None:
    await client.post("/_fakex/users", json={"username": "erin", "followers": 3})
    for name in ("f1", "f2", "f3"):
        r = await client.post("/_fakex/users/erin/followers", json={"username": name})
        assert r.status_code == 201 and r.json()["added"] is True
    dup = await client.post("/_fakex/users/erin/followers", json={"username": "f3"})
    assert dup.json() == {**dup.json(), "added": False, "followers": 6}
    user_id, count = await user(gql, "erin")
    names = [
        u.username
        for u in parse_users((await gql("Followers", userId=user_id, count=100)).json()).users
    ]
    assert count == len(names) == 6
    assert names == ["f3", "f2", "f1", "erin_fan3", "erin_fan2", "erin_fan1"]
    removed = await client.delete("/_fakex/users/erin/followers/f2")
    assert removed.json() == {"removed": True, "followers": 5}
    assert (await client.delete("/_fakex/users/erin/followers/f2")).status_code == 404
    page = parse_users((await gql("Followers", userId=user_id, count=100)).json())
    assert [u.username for u in page.users] == ["f3", "f1", "erin_fan3", "erin_fan2", "erin_fan1"]
    assert (await user(gql, "erin"))[1] == 5
    f3 = next(u for u in page.users if u.username == "f3")
    assert f3.following_count == 1


async def test_followers_paging(client: httpx.AsyncClient, gql: Gql) -> None:
    await client.post("/_fakex/users", json={"username": "gina", "followers": 25})
    user_id, _ = await user(gql, "gina")
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = parse_users((await gql("Followers", userId=user_id, count=10, cursor=cursor)).json())
        if not page.users:
            break
        seen += [u.username for u in page.users]
        cursor = page.cursor_bottom
    assert len(seen) == len(set(seen)) == 25
    assert seen[0] == "gina_fan25" and seen[-1] == "gina_fan1"


async def test_tweets_get_increasing_ids_and_mentions_reach_search(
    client: httpx.AsyncClient, gql: Gql
) -> None:
    ids = []
    for text in ("first", "hello @carol & @Bob <3", "third"):
        r = await client.post("/_fakex/users/alice/tweets", json={"text": text})
        assert r.status_code == 201
        ids.append(r.json()["id"])
    assert all(isinstance(i, str) for i in ids)
    assert [int(i) for i in ids] == sorted(int(i) for i in ids) and len(set(ids)) == 3
    alice_id, _ = await user(gql, "alice")
    page = parse_tweets((await gql("UserTweets", userId=alice_id, count=3)).json())
    assert [t.id for t in page.tweets if not t.pinned] == ids[::-1]
    assert page.tweets[2].text == "hello @carol & @Bob <3"
    raw = (
        await gql("SearchTimeline", rawQuery="@bob -from:bob", count=20, product="Latest")
    ).json()
    found = parse_tweets(raw).tweets
    assert [(t.id, t.author) for t in found[:1]] == [(ids[1], "alice")]
    assert all(t.author != "bob" for t in found)
    from_bob = parse_tweets((await gql("SearchTimeline", rawQuery="@alice", count=20)).json())
    assert {t.author for t in from_bob.tweets} == {"bob", "carol"}
    mentions = raw["data"]["search_by_raw_query"]["search_timeline"]["timeline"]["instructions"][0]
    legacy = mentions["entries"][0]["content"]["itemContent"]["tweet_results"]["result"]["legacy"]
    assert legacy["full_text"] == "hello @carol &amp; @Bob &lt;3"
    mentioned = sorted(m["screen_name"] for m in legacy["entities"]["user_mentions"])
    assert mentioned == ["bob", "carol"]


async def test_long_tweet_is_a_note_tweet(client: httpx.AsyncClient, gql: Gql) -> None:
    text = "long " * 100
    tweet_id = (await client.post("/_fakex/users/bob/tweets", json={"text": text})).json()["id"]
    bob_id, _ = await user(gql, "bob")
    raw = (await gql("UserTweets", userId=bob_id, count=1)).json()
    (parsed,) = parse_tweets(raw).tweets
    assert (parsed.id, parsed.text) == (tweet_id, text)
    entry = raw["data"]["user"]["result"]["timeline"]["timeline"]["instructions"][-1]["entries"][0]
    legacy = entry["content"]["itemContent"]["tweet_results"]["result"]["legacy"]
    assert legacy["full_text"].endswith("…") and len(legacy["full_text"]) == 276


async def test_pinned_via_control_api(client: httpx.AsyncClient, gql: Gql) -> None:
    r = await client.post("/_fakex/users/carol/tweets", json={"text": "pin me", "pinned": True})
    carol_id, _ = await user(gql, "carol")
    page = parse_tweets((await gql("UserTweets", userId=carol_id)).json())
    assert page.tweets[0].id == r.json()["id"] and page.tweets[0].pinned


async def test_unknown_users(client: httpx.AsyncClient, gql: Gql) -> None:
    assert (await gql("UserByScreenName", screen_name="nobody")).json() == {"data": {}}
    assert (await gql("UserTweets", userId="1")).json() == {"data": {"user": {}}}
    assert (await client.post("/_fakex/users/nobody/tweets", json={"text": "x"})).status_code == 404
    assert (await client.delete("/_fakex/users/alice/followers/nobody")).status_code == 404


async def test_bad_variables_and_unknown_operation(gql: Gql) -> None:
    missing = await gql("UserByScreenName")
    assert missing.status_code == 400 and "screen_name" in missing.json()["errors"][0]["message"]
    alice_id, _ = await user(gql, "alice")
    assert (await gql("UserTweets", userId=alice_id, count=0)).status_code == 400
    assert (await gql("HomeTimeline")).status_code == 404


async def test_requests_are_counted_and_reset_restores_the_seed(
    client: httpx.AsyncClient, gql: Gql
) -> None:
    await gql("UserByScreenName", screen_name="alice")
    await gql("UserByScreenName", screen_name="bob")
    await gql("SearchTimeline", rawQuery="@alice")
    await client.post("/_fakex/users", json={"username": "temp"})
    counts = (await client.get("/_fakex/requests")).json()
    assert counts == {"total": 3, "operations": {"UserByScreenName": 2, "SearchTimeline": 1}}
    assert (await client.post("/_fakex/reset")).json() == {"reset": True}
    assert (await client.get("/_fakex/requests")).json() == {"total": 0, "operations": {}}
    assert (await gql("UserByScreenName", screen_name="temp")).json() == {"data": {}}
    assert (await client.get("/_fakex/users/alice")).json()["followers"] == 2


async def test_index_page(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "@alice" in page.text and "/_fakex/faults" in page.text
