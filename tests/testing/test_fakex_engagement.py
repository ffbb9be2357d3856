"""fakex's controls for engagement and deletions: set a tweet's counts, pin it, delete it,
and cut a page short; read back through herald's parsers."""

from __future__ import annotations

import httpx

from herald.sources.x import parse_tweets, parse_user
from herald.testing.fakex import templates
from tests.testing.fakex_support import Gql


async def timeline(gql: Gql, name: str, **variables: object) -> list[tuple[str, bool]]:
    user_id = parse_user((await gql("UserByScreenName", screen_name=name)).json()).id
    page = parse_tweets((await gql("UserTweets", userId=user_id, **variables)).json())
    return [(t.id, t.pinned) for t in page.tweets]


async def test_set_metrics_shows_in_the_tweet(client: httpx.AsyncClient, gql: Gql) -> None:
    posted = (await client.post("/_fakex/users/bob/tweets", json={"text": "count me"})).json()
    answer = await client.post(
        f"/_fakex/tweets/{posted['id']}/metrics", json={"likes": 12, "views": 3400}
    )
    assert answer.status_code == 200
    assert answer.json() == {"id": posted["id"], "metrics": {"likes": 12, "views": 3400}}
    await client.post(f"/_fakex/tweets/{posted['id']}/metrics", json={"retweets": 2})
    user_id = parse_user((await gql("UserByScreenName", screen_name="bob")).json()).id
    page = parse_tweets((await gql("UserTweets", userId=user_id)).json())
    [tweet] = [t for t in page.tweets if t.id == posted["id"]]
    assert tweet.metrics == {
        "likes": 12,
        "retweets": 2,
        "replies": 0,
        "quotes": 0,
        "bookmarks": 0,
        "views": 3400,
    }
    assert set(templates.METRIC_FIELDS) | {"views"} == set(tweet.metrics)


async def test_bad_metrics_and_unknown_tweets_are_refused(client: httpx.AsyncClient) -> None:
    posted = (await client.post("/_fakex/users/bob/tweets", json={"text": "x"})).json()
    for body in ({"likes": -1}, {"hearts": 3}, {"views": "many"}):
        answer = await client.post(f"/_fakex/tweets/{posted['id']}/metrics", json=body)
        assert answer.status_code == 422, body
    for method, path in (
        ("POST", "/_fakex/tweets/1/metrics"),
        ("POST", "/_fakex/tweets/1/pin"),
        ("DELETE", "/_fakex/tweets/1"),
    ):
        answer = await client.request(method, path, json={"likes": 1})
        assert answer.status_code == 404, path


async def test_delete_removes_from_timeline_search_and_pin(
    client: httpx.AsyncClient, gql: Gql
) -> None:
    before = await timeline(gql, "alice")
    pinned = next(i for i, p in before if p)
    newest = next(i for i, p in before if not p)
    assert (await client.delete(f"/_fakex/tweets/{newest}")).json() == {
        "deleted": True,
        "id": newest,
    }
    assert (await client.delete(f"/_fakex/tweets/{pinned}")).status_code == 200
    after = await timeline(gql, "alice")
    assert after == [(i, p) for i, p in before if i not in (pinned, newest)]
    mention = next(
        t.id for t in parse_tweets((await gql("SearchTimeline", rawQuery="@alice")).json()).tweets
    )
    await client.delete(f"/_fakex/tweets/{mention}")
    found = parse_tweets((await gql("SearchTimeline", rawQuery="@alice")).json()).tweets
    assert mention not in {t.id for t in found}
    assert (await client.delete(f"/_fakex/tweets/{newest}")).status_code == 404


async def test_pin_moves_a_tweet_to_the_pin_entry(client: httpx.AsyncClient, gql: Gql) -> None:
    before = await timeline(gql, "alice")
    middle = [i for i, p in before if not p][-1]
    assert (await client.post(f"/_fakex/tweets/{middle}/pin")).status_code == 200
    after = await timeline(gql, "alice")
    assert after[0] == (middle, True)
    # the tweet pinned before is back in its place, newest first
    rest = sorted((i for i, _ in before if i != middle), key=int, reverse=True)
    assert [i for i, p in after if not p] == rest


async def test_a_short_page_keeps_its_cursors(client: httpx.AsyncClient, gql: Gql) -> None:
    await client.post("/_fakex/users", json={"username": "many"})
    for i in range(12):
        await client.post("/_fakex/users/many/tweets", json={"text": f"t{i}"})
    user_id = parse_user((await gql("UserByScreenName", screen_name="many")).json()).id
    full = parse_tweets((await gql("UserTweets", userId=user_id, count=10)).json())
    fault = {"mode": "short", "keep": 3, "operation": "UserTweets"}
    assert (await client.post("/_fakex/faults", json=fault)).status_code == 201
    short = parse_tweets((await gql("UserTweets", userId=user_id, count=10)).json())
    assert [t.id for t in short.tweets] == [t.id for t in full.tweets[:3]]
    assert short.cursor_bottom == full.cursor_bottom  # the next page skips what was cut
    again = parse_tweets((await gql("UserTweets", userId=user_id, count=10)).json())
    assert [t.id for t in again.tweets] == [t.id for t in full.tweets]  # one shot
