"""How a command could lose, duplicate or hang: same id raced, a timeout after X applied
the write, a timeout before it did, a send that never happened."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from commands_support import Rig

from herald.commands.service import iso
from tests.conftest import EXTERNAL_REDIS_URL, REPO_ROOT
from tests.waiting import wait_until

CHILD_SETTINGS = {
    "x_base_url",
    "x_transaction_id",
    "data_dir",
    "secret_key",
    "session_cookie",
    "redis_prefix",
    "enable_writes",
    "write_limit_minute",
    "write_limit_hour",
    "write_limit_day",
}


async def bob_tweet(rig: Rig) -> str:
    answer = await rig.fakex.post("/_fakex/users/bob/tweets", json={"text": "bob says hi"})
    return str(answer.json()["id"])


def post(command_id: str, text: str) -> dict[str, object]:
    return {"type": "post_tweet", "commandId": command_id, "data": {"text": text}}


async def test_same_id_from_two_services_at_once_runs_once(rig: Rig) -> None:
    other = rig.twin()
    answers = await asyncio.gather(
        *(service.submit(post("race-1", "raced")) for service in [rig.service, other] * 3)
    )
    assert all(a == answers[0] for a in answers), answers
    assert answers[0]["state"] == "succeeded"
    assert (await rig.requests())["CreateTweet"] == 1
    events = await rig.events("race-1")
    assert [e["type"] for e in events] == ["command:requested", "command:succeeded"]


async def test_same_id_from_separate_processes_runs_once(rig: Rig, tmp_path: Path) -> None:
    settings = json.dumps(rig.settings.model_dump(mode="json", include=CHILD_SETTINGS))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = json.dumps(post("across", "from two processes"))
    child = str(Path(__file__).with_name("command_child.py"))
    gate = f"{rig.keys.prefix}:test:gate"
    with (tmp_path / "children.log").open("wb") as log:
        children = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                child,
                settings,
                command,
                EXTERNAL_REDIS_URL,
                gate,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
            for _ in range(3)
        ]

        async def ready() -> bool:
            return int(await rig.redis.get(f"{gate}:ready") or 0) == len(children)

        await wait_until(ready, timeout=60, what="the three children are ready")
        await rig.redis.rpush(f"{gate}:go", *["go"] * len(children))  # released together
        outputs = [await asyncio.wait_for(c.communicate(), 60) for c in children]
    assert [c.returncode for c in children] == [0, 0, 0]
    answers = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
    assert all(a == answers[0] for a in answers), answers
    assert answers[0]["state"] == "succeeded"
    assert (await rig.requests())["CreateTweet"] == 1
    types = [e["type"] for e in await rig.events("across")]
    assert types == ["command:requested", "command:succeeded"]


async def test_same_id_later_answers_the_first_outcome_even_with_other_data(rig: Rig) -> None:
    first = await rig.service.submit(post("same-1", "first text"))
    second = await rig.service.submit(post("same-1", "other text"))
    assert second == first
    assert second["data"] == {"text": "first text"}
    assert (await rig.requests())["CreateTweet"] == 1


async def test_timeout_after_commit_is_uncertain_then_found_without_a_second_post(
    rig: Rig,
) -> None:
    await rig.fault(mode="timeout_after_commit", operation="CreateTweet", seconds=30)
    answer = await rig.service.submit(post("lost-answer", "did it post?"))
    assert answer["state"] == "uncertain", answer
    assert answer["error"]["code"] == "outcome_unknown"
    assert "finishedAt" not in answer
    # the same id again while uncertain: the stored answer, nothing sent
    assert (await rig.service.submit(post("lost-answer", "did it post?")))["state"] == "uncertain"
    moved = await rig.reconciler().run_once()
    assert moved == 1
    settled = await rig.service.get("lost-answer")
    assert settled["state"] == "succeeded"
    texts = {t.id: t.text for t in await rig.timeline("alice")}
    assert texts[settled["result"]["tweetId"]] == "did it post?"
    assert "error" not in settled
    assert (await rig.requests())["CreateTweet"] == 1
    events = await rig.events("lost-answer")
    assert [e["type"] for e in events] == [
        "command:requested",
        "command:uncertain",
        "command:succeeded",
    ]
    assert events[2]["command"]["result"] == settled["result"]
    assert await rig.reconciler().run_once() == 0  # settled: nothing left to do


async def test_timeout_before_commit_stays_uncertain_then_fails_never_reposted(
    rig: Rig,
) -> None:
    await rig.fault(mode="timeout", operation="CreateTweet", seconds=30)
    answer = await rig.service.submit(post("never-posted", "lost on the way"))
    assert answer["state"] == "uncertain"
    assert await rig.reconciler().run_once() == 0  # not found yet, still young
    assert (await rig.service.get("never-posted"))["state"] == "uncertain"
    later = rig.twin(clock=lambda: time.time() + rig.settings.command_settle_after + 1)
    assert await rig.reconciler(later).run_once() == 1
    settled = await rig.service.get("never-posted")
    assert settled["state"] == "failed"
    assert settled["error"]["code"] == "not_posted"
    assert settled["error"]["retryable"] is True
    assert (await rig.requests())["CreateTweet"] == 1
    types = [e["type"] for e in await rig.events("never-posted")]
    assert types == ["command:requested", "command:uncertain", "command:failed"]


async def test_uncertain_like_is_reissued_and_x_says_already_liked(rig: Rig) -> None:
    target = await bob_tweet(rig)
    await rig.fault(mode="timeout_after_commit", operation="FavoriteTweet", seconds=30)
    body = {"type": "like_tweet", "commandId": "like-1", "data": {"tweet_id": target}}
    assert (await rig.service.submit(body))["state"] == "uncertain"
    assert await rig.reconciler().run_once() == 1
    settled = await rig.service.get("like-1")
    assert settled["state"] == "succeeded"
    assert settled["result"] == {"tweetId": target, "liked": True}
    assert (await rig.requests())["FavoriteTweet"] == 2
    liked = next(t for t in await rig.timeline("bob") if t.id == target)
    assert liked.metrics["likes"] == 1  # one like, however many requests


async def test_uncertain_delete_whose_tweet_is_gone_succeeded(rig: Rig) -> None:
    posted = await rig.service.submit(post("to-delete", "delete me"))
    tweet_id = posted["result"]["tweetId"]
    await rig.fault(mode="timeout_after_commit", operation="DeleteTweet", seconds=30)
    body = {"type": "delete_tweet", "commandId": "del-1", "data": {"tweet_id": tweet_id}}
    assert (await rig.service.submit(body))["state"] == "uncertain"
    assert await rig.reconciler().run_once() == 1
    settled = await rig.service.get("del-1")
    assert settled["state"] == "succeeded"
    assert settled["result"] == {"tweetId": tweet_id, "deleted": True}


async def test_kill_9_mid_send_ends_uncertain_then_found_never_duplicated(
    rig: Rig, tmp_path: Path
) -> None:
    """A worker killed after the request left: its lease lapses, the reconciler marks the
    command uncertain, finds the tweet and settles it; CreateTweet was sent once."""
    await rig.fault(mode="timeout_after_commit", operation="CreateTweet", seconds=60)
    settings = rig.settings.model_dump(mode="json", include=CHILD_SETTINGS)
    settings["poll_timeout"] = 20  # the child hangs in its send until killed
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with (tmp_path / "child.log").open("wb") as child_log:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).with_name("command_child.py")),
            json.dumps(settings),
            json.dumps(post("killed-1", "posted by a dying worker")),
            EXTERNAL_REDIS_URL,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=child_log,
        )
    try:

        async def sent() -> bool:
            stored = await rig.service.store.get("killed-1")
            requests = await rig.requests()
            return stored is not None and stored.state == "running" and "CreateTweet" in requests

        await wait_until(sent, timeout=30, what="the child sent CreateTweet")
    finally:
        child.kill()
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    assert await rig.reconciler().run_once() == 0  # its lease still holds
    assert (await rig.service.get("killed-1"))["state"] == "running"
    later = rig.twin(clock=lambda: time.time() + 600)
    assert await rig.reconciler(later).run_once() == 1
    settled = await rig.service.get("killed-1")
    assert settled["state"] == "succeeded", settled
    assert (await rig.requests())["CreateTweet"] == 1
    types = [e["type"] for e in await rig.events("killed-1")]
    assert types == ["command:requested", "command:uncertain", "command:succeeded"]


async def test_a_runner_gone_before_sending_fails_not_sent(rig: Rig) -> None:
    store = rig.service.store
    account = await rig.accounts.env_account(rig.settings.session_cookie)
    assert account is not None
    now = time.time()
    doc = {
        "id": "died-early",
        "type": "post_tweet",
        "accountId": account.id,
        "data": {"text": "never sent"},
        "state": "requested",
        "requestedAt": iso(now),
    }
    assert (await store.claim("died-early", doc, int(now * 1000), int(now * 1000) + 60_000)).claimed
    assert await rig.reconciler().run_once() == 0  # its lease still holds
    later = rig.twin(clock=lambda: now + 120)
    assert await rig.reconciler(later).run_once() == 1
    settled = await rig.service.get("died-early")
    assert settled["state"] == "failed"
    assert settled["error"]["code"] == "not_sent"
    assert settled["error"]["retryable"] is True
    assert "CreateTweet" not in await rig.requests()


async def test_events_lost_to_a_crash_between_record_and_log_are_appended_once(
    rig: Rig,
) -> None:
    """The runner recorded the outcome and died before logging it: the reconciler appends
    the missing events, once however often it passes."""
    store = rig.service.store
    now = time.time()
    base = {
        "id": "unlogged",
        "type": "like_tweet",
        "accountId": "acct",
        "data": {"tweet_id": "1"},
        "requestedAt": iso(now),
    }
    await store.claim("unlogged", {**base, "state": "requested"}, int(now * 1000), 0)
    done = {**base, "state": "succeeded", "result": {"tweetId": "1", "liked": True}}
    assert await store.move("unlogged", ("requested",), "succeeded", done)
    assert await rig.events("unlogged") == []
    for _ in range(3):
        await rig.reconciler().run_once()
    events = await rig.events("unlogged")
    assert [e["type"] for e in events] == ["command:requested", "command:succeeded"]
    assert "result" not in events[0]["command"]
    assert events[1]["command"]["result"] == {"tweetId": "1", "liked": True}
    assert await store.open_ids(10) == []


async def test_a_lost_post_does_not_claim_another_commands_tweet_of_the_same_text(
    rig: Rig,
) -> None:
    first = await rig.service.submit(post("same-text-1", "gm"))
    assert first["state"] == "succeeded"
    await rig.fault(mode="timeout", operation="CreateTweet", seconds=30)  # never applied
    assert (await rig.service.submit(post("same-text-2", "gm")))["state"] == "uncertain"
    assert await rig.reconciler().run_once() == 0
    assert (await rig.service.get("same-text-2"))["state"] == "uncertain"
    later = rig.twin(clock=lambda: time.time() + rig.settings.command_settle_after + 1)
    await rig.reconciler(later).run_once()
    settled = await rig.service.get("same-text-2")
    assert settled["state"] == "failed"
    assert settled["error"]["code"] == "not_posted"


async def test_an_uncertain_like_is_not_reissued_over_a_later_unlike(rig: Rig) -> None:
    target = await bob_tweet(rig)
    await rig.fault(mode="timeout_after_commit", operation="FavoriteTweet", seconds=30)
    like = {"type": "like_tweet", "commandId": "like-old", "data": {"tweet_id": target}}
    assert (await rig.service.submit(like))["state"] == "uncertain"
    unlike = {"type": "unlike_tweet", "commandId": "unlike-new", "data": {"tweet_id": target}}
    assert (await rig.service.submit(unlike))["state"] == "succeeded"
    assert await rig.reconciler().run_once() == 1
    settled = await rig.service.get("like-old")
    assert settled["state"] == "failed"
    assert settled["error"]["code"] == "superseded"
    assert "unlike-new" in settled["error"]["message"]
    assert (await rig.requests())["FavoriteTweet"] == 1  # not re-issued
    tweet = next(t for t in await rig.timeline("bob") if t.id == target)
    assert tweet.metrics["likes"] == 0  # the later unlike stands
