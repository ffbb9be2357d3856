"""fakex's mutations: CreateTweet's tweet result held against a recorded timeline tweet, the
other answers at the paths the open-source clients read, X's refusals, and the faults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakex_key_paths import key_paths, tracked

from herald.sources.x.parse import parse_tweet_result
from tests.testing.fakex_support import AUTH_TOKEN, session_client

# What a plain new tweet has none of (the recording holds retweets, quotes and replies).
OPTIONAL = (
    "retweeted_status_result",
    "quoted_status_result",
    "quoted_status_id_str",
    "in_reply_to_status_id_str",
    "note_tweet",
)


async def mutate(client: httpx.AsyncClient, operation: str, **variables: Any) -> httpx.Response:
    body = {"variables": variables, "queryId": "qid123"}
    return await client.post(f"/i/api/graphql/qid123/{operation}", json=body)


def recorded_results(fixtures_dir: Path) -> list[dict[str, Any]]:
    doc = json.loads((fixtures_dir / "x" / "raw_user_tweets.json").read_text("utf-8"))
    found: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            result = value.get("tweet_results", {}).get("result")
            if isinstance(result, dict) and result.get("__typename") == "Tweet":
                found.append(result)
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(doc)
    return found


async def test_create_tweet_result_has_what_the_parser_reads_in_recordings(
    client: httpx.AsyncClient, fixtures_dir: Path
) -> None:
    answer = await mutate(client, "CreateTweet", tweet_text="hello @bob & co")
    assert answer.status_code == 200
    result = answer.json()["data"]["create_tweet"]["tweet_results"]["result"]
    present = key_paths(result)
    recorded = recorded_results(fixtures_dir)
    assert recorded, "the recording holds timeline tweets"
    checked = 0
    for sample in recorded:
        wrapped, reads = tracked(sample)
        parse_tweet_result(wrapped)
        wanted = {p for p in reads if not any(o in p for o in OPTIONAL)}
        missing = sorted(p for p in wanted if p not in present)
        assert missing == [], missing
        for path in wanted:
            assert present[path] <= reads[path], path
        checked += 1
    assert checked == len(recorded)
    tweet = parse_tweet_result(result)
    assert tweet is not None
    assert tweet.text == "hello @bob & co"
    assert tweet.author == "fakex_session"  # an unbound token writes as fakex_session


async def test_created_tweet_shows_in_the_timeline_of_the_bound_user(
    client: httpx.AsyncClient,
) -> None:
    bound = await client.post(
        "/_fakex/sessions", json={"authToken": AUTH_TOKEN, "username": "carol"}
    )
    assert bound.status_code == 201
    assert AUTH_TOKEN not in bound.text
    created = (await mutate(client, "CreateTweet", tweet_text="carol writes")).json()
    tweet_id = created["data"]["create_tweet"]["tweet_results"]["result"]["rest_id"]
    settings = (await client.get("/i/api/1.1/account/settings.json")).json()
    assert settings["screen_name"] == "carol"
    user = (await client.get("/_fakex/users/carol")).json()
    variables = json.dumps({"userId": user["id"], "count": 20})
    timeline = await client.get(
        "/i/api/graphql/q/UserTweets", params={"variables": variables, "features": "{}"}
    )
    assert tweet_id in timeline.text


async def test_engagement_mutations_answer_what_clients_read(client: httpx.AsyncClient) -> None:
    tweet_id = (await client.post("/_fakex/users/bob/tweets", json={"text": "t"})).json()["id"]
    liked = (await mutate(client, "FavoriteTweet", tweet_id=tweet_id)).json()
    assert liked == {"data": {"favorite_tweet": "Done"}}
    again = (await mutate(client, "FavoriteTweet", tweet_id=tweet_id)).json()
    assert again["errors"][0]["code"] == 139
    assert (await mutate(client, "UnfavoriteTweet", tweet_id=tweet_id)).json() == {
        "data": {"unfavorite_tweet": "Done"}
    }
    retweet = (await mutate(client, "CreateRetweet", tweet_id=tweet_id)).json()
    retweet_id = retweet["data"]["create_retweet"]["retweet_results"]["result"]["rest_id"]
    assert int(retweet_id) > int(tweet_id)
    assert (await mutate(client, "CreateRetweet", tweet_id=tweet_id)).json()["errors"][0][
        "code"
    ] == 327
    undone = (await mutate(client, "DeleteRetweet", source_tweet_id=tweet_id)).json()
    assert undone["data"]["unretweet"]["source_tweet_results"]["result"]["rest_id"] == tweet_id


async def test_delete_only_own_tweets_and_refusals_carry_x_codes(
    client: httpx.AsyncClient,
) -> None:
    bobs = (await client.post("/_fakex/users/bob/tweets", json={"text": "t"})).json()["id"]
    refused = (await mutate(client, "DeleteTweet", tweet_id=bobs)).json()
    assert refused["errors"][0]["code"] == 144
    own = (await mutate(client, "CreateTweet", tweet_text="mine")).json()
    own_id = own["data"]["create_tweet"]["tweet_results"]["result"]["rest_id"]
    deleted = (await mutate(client, "DeleteTweet", tweet_id=own_id)).json()
    assert deleted == {"data": {"delete_tweet": {"tweet_results": {}}}}
    duplicate = await mutate(client, "CreateTweet", tweet_text="twice")
    assert duplicate.status_code == 200
    assert (await mutate(client, "CreateTweet", tweet_text="twice")).json()["errors"][0][
        "code"
    ] == 187
    bad = await client.post("/i/api/graphql/q/FavoriteTweet", content=b"{not json")
    assert bad.json()["errors"][0]["code"] == 214
    assert (await mutate(client, "FollowUser", user_id="1")).status_code == 404


@pytest.mark.parametrize(("mode", "code"), [("automated", 226), ("locked", 326)])
async def test_226_and_326_as_x_sends_them(client: httpx.AsyncClient, mode: str, code: int) -> None:
    await client.post("/_fakex/faults", json={"mode": mode, "operation": "CreateTweet"})
    answer = await mutate(client, "CreateTweet", tweet_text="blocked")
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == {}
    error = body["errors"][0]
    assert error["code"] == error["extensions"]["code"] == code
    assert error["name"] == "AuthorizationError"
    assert error["path"] == ["create_tweet"]
    assert f"({code})" in error["message"]
    user = (await client.get("/_fakex/users/fakex_session")).json()
    assert user["tweets"] == 0  # refused: nothing was posted


async def test_timeout_after_commit_applies_the_write_then_stalls(live_url: str) -> None:
    async with session_client(live_url) as client:
        await client.post(
            "/_fakex/faults",
            json={"mode": "timeout_after_commit", "operation": "CreateTweet", "seconds": 30},
        )
        with pytest.raises(httpx.ReadTimeout):
            await client.post(
                "/i/api/graphql/q/CreateTweet",
                json={"variables": {"tweet_text": "applied anyway"}},
                timeout=0.5,
            )
        user = (await client.get("/_fakex/users/fakex_session")).json()
        assert user["tweets"] == 1
        counts = (await client.get("/_fakex/requests")).json()["operations"]
        assert counts["CreateTweet"] == 1
