"""What stops a write before it leaves, and what X's 226 and 326 do to an account."""

from __future__ import annotations

import asyncio
import logging

import pytest
from commands_support import ALICE_TOKEN, Rig

from herald.errors import AccountPaused, WriteRateLimited
from herald.sources.x.accounts import NoUsableAccount


def post(text: str, command_id: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"type": "post_tweet", "data": {"text": text}}
    if command_id:
        body["commandId"] = command_id
    return body


@pytest.mark.parametrize(
    ("mode", "code", "health"), [("automated", 226, "write_paused"), ("locked", 326, "locked")]
)
async def test_226_and_326_pause_the_account_and_report_health_once(
    rig: Rig, mode: str, code: int, health: str
) -> None:
    await rig.fault(mode=mode, operation="CreateTweet", count=2)
    results = await asyncio.gather(
        rig.service.submit(post("first")), rig.twin().submit(post("second")), return_exceptions=True
    )
    # the second may reach X too, or already find the account paused (nothing sent)
    answers = [r for r in results if isinstance(r, dict)]
    assert answers, results
    assert all(isinstance(r, (dict, AccountPaused)) for r in results), results
    for answer in answers:
        assert answer["state"] == "failed", answer
        assert answer["error"]["code"] == "account_paused"
        assert str(code) in answer["error"]["message"]
    events = await rig.health_events()
    assert len(events) == 1, events
    assert events[0]["accountId"] == answers[0]["accountId"]
    assert events[0]["state"] == health
    assert events[0]["previous"] == "ok"
    account = await rig.accounts.get(answers[0]["accountId"])
    assert account.health == health
    sent = (await rig.requests())["CreateTweet"]
    assert sent == len(answers)
    with pytest.raises(AccountPaused) as caught:
        await rig.service.submit(post("third"))
    assert caught.value.status == 409
    with pytest.raises(AccountPaused):
        await rig.service.submit({**post("fourth"), "accountId": answers[0]["accountId"]})
    assert (await rig.requests())["CreateTweet"] == sent  # nothing more was sent
    assert len(await rig.health_events()) == 1


async def test_a_pause_ends_and_a_write_then_restores_health(rig: Rig) -> None:
    await rig.fault(mode="automated", operation="FavoriteTweet")
    target = (await rig.fakex.post("/_fakex/users/bob/tweets", json={"text": "t"})).json()["id"]
    failed = await rig.service.submit({"type": "like_tweet", "data": {"tweet_id": target}})
    assert failed["error"]["code"] == "account_paused"
    assert await rig.service.store.resume(failed["accountId"])  # the pause lapsed
    answer = await rig.service.submit({"type": "like_tweet", "data": {"tweet_id": target}})
    assert answer["state"] == "succeeded"
    assert (await rig.accounts.get(answer["accountId"])).health == "ok"
    states = [e["state"] for e in await rig.health_events()]
    assert states == ["write_paused", "ok"]


async def test_write_budget_refuses_with_429_and_sends_nothing(rig: Rig) -> None:
    limited = rig.twin(write_limit_minute=2)
    for i in range(2):
        assert (await limited.submit(post(f"budget {i}", f"b{i}")))["state"] == "succeeded"
    with pytest.raises(WriteRateLimited) as caught:
        await limited.submit(post("over budget"))
    assert caught.value.status == 429
    assert 0 < caught.value.retry_after <= 60
    assert (await rig.requests())["CreateTweet"] == 2
    assert len(await limited.list()) == 2  # nothing stored for the refused one
    # a known id is answered from the store, budget or not
    assert (await limited.submit(post("budget 0", "b0")))["state"] == "succeeded"
    # the budget is the account's, shared by every service
    with pytest.raises(WriteRateLimited):
        await rig.twin(write_limit_minute=2).submit(post("elsewhere"))


async def test_racing_submits_never_overspend_the_budget(rig: Rig) -> None:
    limited = [rig.twin(write_limit_minute=3) for _ in range(2)]
    results = await asyncio.gather(
        *(limited[i % 2].submit(post(f"race {i}")) for i in range(8)), return_exceptions=True
    )
    done = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, WriteRateLimited)]
    assert len(done) == 3
    assert len(refused) == 5
    assert (await rig.requests())["CreateTweet"] == 3


async def test_no_secret_in_answers_events_or_logs(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await rig.fault(mode="timeout_after_commit", operation="CreateTweet", seconds=30)
    answers = [await rig.service.submit(post("secret check"))]
    await rig.fault(mode="automated", operation="CreateTweet")
    await rig.service.store.resume(answers[0]["accountId"])
    answers += await rig.service.list()
    await rig.reconciler().run_once()
    events = await rig.log.read(None, 10_000)
    text = repr(answers) + repr(events) + caplog.text
    assert ALICE_TOKEN not in text
    assert "ct0=" not in text


async def test_no_account_to_write_as_is_a_503_that_says_how_and_sends_nothing(
    rig: Rig,
) -> None:
    service = rig.twin(session_cookie=None)
    with pytest.raises(NoUsableAccount) as caught:
        await service.submit(post("nobody to post as"))
    assert caught.value.status == 503
    assert caught.value.code == "no_x_account"
    assert "herald accounts add" in caught.value.detail
    assert (await rig.requests()).get("CreateTweet", 0) == 0
    assert await service.list() == []
