"""Every command type against the X stand-in, end to end: the request X gets, the answer,
the stored command, and its lifecycle events in the log."""

from __future__ import annotations

from typing import Any

import pytest
from commands_support import Rig

from herald.commands.base import CommandsService
from herald.errors import NotFound, ValidationError


async def bob_tweet(rig: Rig, text: str = "a tweet by bob") -> str:
    answer = await rig.fakex.post("/_fakex/users/bob/tweets", json={"text": text})
    answer.raise_for_status()
    return str(answer.json()["id"])


async def test_the_service_is_a_commands_service(rig: Rig) -> None:
    assert isinstance(rig.service, CommandsService)


async def test_post_tweet_posts_once_and_shows_on_the_timeline(rig: Rig) -> None:
    answer = await rig.service.submit({"type": "post_tweet", "data": {"text": "hello & <x>"}})
    assert answer["state"] == "succeeded", answer
    result = answer["result"]
    assert result["text"] == "hello & <x>"
    assert result["url"].endswith(f"/alice/status/{result['tweetId']}")
    assert (await rig.requests())["CreateTweet"] == 1
    timeline = await rig.timeline("alice")
    assert [t.text for t in timeline if t.id == result["tweetId"]] == ["hello & <x>"]
    assert answer["requestedAt"] <= answer["finishedAt"]
    assert await rig.service.get(answer["id"]) == answer


async def test_reply_and_quote_reach_x_and_show_in_the_tweet(rig: Rig) -> None:
    target = await bob_tweet(rig)
    data = {"text": "replying", "reply_to_tweet_id": target, "quote_tweet_id": target}
    answer = await rig.service.submit({"type": "post_tweet", "data": data})
    assert answer["state"] == "succeeded", answer
    posted = next(t for t in await rig.timeline("alice") if t.id == answer["result"]["tweetId"])
    assert posted.in_reply_to_id == target
    assert posted.quoted_id == target


@pytest.mark.parametrize(
    ("kind", "operation", "expected"),
    [
        ("like_tweet", "FavoriteTweet", {"liked": True}),
        ("unlike_tweet", "UnfavoriteTweet", {"liked": False}),
        ("retweet", "CreateRetweet", {"retweeted": True}),
        ("unretweet", "DeleteRetweet", {"retweeted": False}),
    ],
)
async def test_engagement_commands(
    rig: Rig, kind: str, operation: str, expected: dict[str, Any]
) -> None:
    target = await bob_tweet(rig)
    answer = await rig.service.submit({"type": kind, "data": {"tweet_id": target}})
    assert answer["state"] == "succeeded", answer
    assert {k: answer["result"][k] for k in expected} == expected
    assert answer["result"]["tweetId"] == target
    assert (await rig.requests())[operation] == 1
    if kind == "retweet":
        assert answer["result"]["retweetId"].isdigit()


async def test_like_changes_the_count_x_reports(rig: Rig) -> None:
    target = await bob_tweet(rig)
    await rig.service.submit({"type": "like_tweet", "data": {"tweet_id": target}})
    answer = await rig.service.submit({"type": "retweet", "data": {"tweet_id": target}})
    assert answer["state"] == "succeeded"
    bob = await rig.timeline("bob")
    tweet = next(t for t in bob if t.id == target)
    assert tweet.metrics["likes"] == 1
    assert tweet.metrics["retweets"] == 1


async def test_delete_tweet_removes_it(rig: Rig) -> None:
    posted = await rig.service.submit({"type": "post_tweet", "data": {"text": "short-lived"}})
    tweet_id = posted["result"]["tweetId"]
    answer = await rig.service.submit({"type": "delete_tweet", "data": {"tweet_id": tweet_id}})
    assert answer["state"] == "succeeded", answer
    assert answer["result"] == {"tweetId": tweet_id, "deleted": True}
    assert tweet_id not in [t.id for t in await rig.timeline("alice")]


async def test_x_refusal_fails_the_command_with_its_reason(rig: Rig) -> None:
    answer = await rig.service.submit(
        {"type": "delete_tweet", "data": {"tweet_id": "1234567890123"}}
    )
    assert answer["state"] == "failed"
    assert answer["error"]["code"] == "x_refused"
    assert "144" in answer["error"]["message"]
    assert answer["error"]["retryable"] is False


async def test_liking_twice_is_a_success_both_times(rig: Rig) -> None:
    target = await bob_tweet(rig)
    first = await rig.service.submit({"type": "like_tweet", "data": {"tweet_id": target}})
    second = await rig.service.submit({"type": "like_tweet", "data": {"tweet_id": target}})
    assert first["state"] == second["state"] == "succeeded"
    assert first["id"] != second["id"]
    assert (await rig.requests())["FavoriteTweet"] == 2  # X said 139: already liked


async def test_lifecycle_events_once_each_with_correlation_id(rig: Rig) -> None:
    answer = await rig.service.submit(
        {"type": "post_tweet", "commandId": "evt-1", "data": {"text": "events"}}
    )
    again = await rig.service.submit(
        {"type": "post_tweet", "commandId": "evt-1", "data": {"text": "events"}}
    )
    assert again == answer
    events = await rig.events("evt-1")
    assert [e["type"] for e in events] == ["command:requested", "command:succeeded"]
    for event in events:
        assert event["correlationId"] == "evt-1"
        assert event["streamId"] == "commands"
        assert event["platform"] == "x"
        command = event["command"]
        assert command["id"] == "evt-1"
        assert command["type"] == "post_tweet"
        assert command["accountId"] == answer["accountId"]
        assert command["data"] == {"text": "events"}
    assert events[1]["command"]["result"] == answer["result"]
    assert "result" not in events[0]["command"]


async def test_list_is_newest_first_and_get_knows_them(rig: Rig) -> None:
    ids = []
    for i in range(3):
        answer = await rig.service.submit({"type": "post_tweet", "data": {"text": f"n{i}"}})
        ids.append(answer["id"])
    listed = await rig.service.list(limit=10)
    assert [c["id"] for c in listed] == ids[::-1]
    assert [c["id"] for c in await rig.service.list(limit=2)] == ids[:0:-1]
    with pytest.raises(NotFound):
        await rig.service.get("no-such-command")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "post", "data": {}}, "type"),
        ({"type": "post_tweet", "data": {"text": ""}}, "data.text"),
        ({"type": "post_tweet", "data": {"text": "x" * 281}}, "data.text"),
        ({"type": "post_tweet", "data": {"text": "x", "reply_to_tweet_id": "12ab"}}, "data.reply"),
        ({"type": "like_tweet", "data": {}}, "data.tweet_id"),
        ({"type": "like_tweet", "data": {"tweet_id": "1", "extra": 1}}, "data.extra"),
        ({"type": "like_tweet", "data": {"tweet_id": "1"}, "commandId": "a b"}, "commandId"),
        ({"type": "like_tweet", "data": {"tweet_id": "1"}, "accountId": 5}, "accountId"),
        ({"type": "like_tweet", "data": {"tweet_id": "1"}, "other": 1}, "other"),
        ({"type": "like_tweet", "data": "1"}, "data"),
    ],
)
async def test_bad_input_names_the_field_and_sends_nothing(
    rig: Rig, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await rig.service.submit(body)
    assert caught.value.detail.startswith(field)
    assert sum((await rig.requests()).values()) == 0
    assert await rig.service.list() == []


async def test_wait_false_answers_once_requested(rig: Rig) -> None:
    answer = await rig.service.submit(
        {"type": "post_tweet", "commandId": "later", "data": {"text": "no wait"}}, wait=False
    )
    assert answer["state"] == "requested"
    settled = await rig.service.submit(
        {"type": "post_tweet", "commandId": "later", "data": {"text": "no wait"}}, timeout=10
    )
    assert settled["state"] == "succeeded"
    assert (await rig.requests())["CreateTweet"] == 1


async def test_a_timeout_answers_the_running_command_which_goes_on(rig: Rig) -> None:
    await rig.fault(mode="timeout", operation="CreateTweet", seconds=30)
    body = {"type": "post_tweet", "commandId": "slow", "data": {"text": "slow one"}}
    answer = await rig.service.submit(body, timeout=0.05)
    assert answer["state"] in ("requested", "running")  # not settled: it goes on
    settled = await rig.service.submit(body, timeout=20)  # waits for the first
    assert settled["state"] == "uncertain"
    assert (await rig.requests())["CreateTweet"] == 1
