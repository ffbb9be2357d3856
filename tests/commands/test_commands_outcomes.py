"""Which errors fail a command and which leave it uncertain (pure: no X, no Redis)."""

from __future__ import annotations

import pytest

from herald.commands.outcomes import outcome_of
from herald.errors import (
    AccountAuthFailed,
    AccountLocked,
    AccountSuspended,
    AutomationSuspected,
    ConfigError,
    EmptyResponse,
    FetchTimeout,
    RateLimited,
    SchemaError,
    UpstreamError,
    WriteOutcomeUnknown,
    WriteRefused,
)

LIKE = {"tweet_id": "5"}


@pytest.mark.parametrize(
    ("exc", "state", "code"),
    [
        (WriteOutcomeUnknown("lost"), "uncertain", "outcome_unknown"),
        (FetchTimeout("slow"), "uncertain", "outcome_unknown"),
        (SchemaError("odd answer"), "uncertain", "outcome_unknown"),
        (EmptyResponse("empty"), "uncertain", "outcome_unknown"),
        (TimeoutError("guard"), "uncertain", "outcome_unknown"),
        (RuntimeError("a bug after sending"), "uncertain", "outcome_unknown"),
        (UpstreamError("never connected"), "failed", "x_unreachable"),
        (RateLimited("429", retry_after=5), "failed", "x_rate_limited"),
        (AccountAuthFailed("401"), "failed", "account_unusable"),
        (AccountSuspended("64"), "failed", "account_unusable"),
        (AutomationSuspected("226"), "failed", "account_paused"),
        (AccountLocked("326"), "failed", "account_paused"),
        (ConfigError("no such operation"), "failed", "config_error"),
        (WriteRefused("144", x_codes=frozenset({144})), "failed", "x_refused"),
    ],
)
def test_each_error_has_one_outcome(exc: Exception, state: str, code: str) -> None:
    outcome = outcome_of(exc, "like_tweet", LIKE)
    assert outcome.state == state
    assert outcome.error is not None
    assert outcome.error["code"] == code


def test_pauses_and_health_verdicts() -> None:
    assert outcome_of(AutomationSuspected("x"), "post_tweet", {}).pause == "write_paused"
    assert outcome_of(AccountLocked("x"), "post_tweet", {}).pause == "locked"
    assert outcome_of(AccountAuthFailed("x"), "post_tweet", {}).health == "auth_failed"
    assert outcome_of(AccountSuspended("x"), "post_tweet", {}).health == "suspended"
    assert outcome_of(UpstreamError("x"), "post_tweet", {}).pause is None


def test_already_done_is_success_and_gone_only_on_a_retry() -> None:
    liked = outcome_of(WriteRefused("139", x_codes=frozenset({139})), "like_tweet", LIKE)
    assert liked.state == "succeeded"
    assert liked.result == {"tweetId": "5", "liked": True}
    retweeted = outcome_of(WriteRefused("327", x_codes=frozenset({327})), "retweet", LIKE)
    assert retweeted.result == {"tweetId": "5", "retweeted": True}
    gone = WriteRefused("144", x_codes=frozenset({144}))
    assert outcome_of(gone, "delete_tweet", LIKE).state == "failed"
    assert outcome_of(gone, "delete_tweet", LIKE, retry=True).state == "succeeded"
    assert outcome_of(gone, "like_tweet", LIKE, retry=True).state == "failed"
