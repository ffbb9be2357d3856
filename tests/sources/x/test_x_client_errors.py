"""XClient against a scripted peer on loopback: the request it sends and every error mapping."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from x_scripted import OK_USER, Answer, Script
from x_support import AUTH_TOKEN, free_port, serve_asgi

from herald.config import Settings
from herald.errors import (
    AccountAuthFailed,
    AccountLocked,
    AccountSuspended,
    ChallengeRequired,
    FetchTimeout,
    RateLimited,
    SchemaError,
    SignatureRefused,
    SourceError,
    UpstreamError,
)
from herald.sources.x.client import XClient
from herald.sources.x.operations import load_operations


@pytest.fixture
async def peer() -> AsyncIterator[tuple[Script, str]]:
    script = Script()
    async with serve_asgi(script.app()) as url:
        yield script, url


def settings_for(url: str, tmp_path: Path, **extra: object) -> Settings:
    values: dict[str, object] = {
        "x_base_url": url,
        "poll_timeout": 1,
        "data_dir": tmp_path,
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


def assert_clean(exc: BaseException, *secrets: str) -> None:
    text = f"{exc} {exc!r} {getattr(exc, 'detail', '')}"
    for secret in (AUTH_TOKEN, *secrets):
        assert secret not in text


async def test_request_shape_and_ct0_bootstrap(peer: tuple[Script, str], tmp_path: Path) -> None:
    script, url = peer
    async with XClient(settings_for(url, tmp_path), AUTH_TOKEN) as client:
        response = await client.graphql("UserByScreenName", {"screen_name": "alice"})
        await client.graphql("UserByScreenName", {"screen_name": "alice"})
    assert response.body == OK_USER
    bootstrap, first, second = script.seen
    assert bootstrap.path == "/i/api/1.1/account/settings.json"
    assert "x-csrf-token" not in bootstrap.headers
    op = load_operations()["UserByScreenName"]
    assert first.path == f"/i/api/graphql/{op.query_id}/UserByScreenName"
    assert first.headers["x-csrf-token"] == "csrf-from-server"
    assert first.headers["cookie"] == f"auth_token={AUTH_TOKEN}; ct0=csrf-from-server"
    assert first.headers["authorization"] == f"Bearer {load_operations().bearer}"
    assert first.headers["x-twitter-auth-type"] == "OAuth2Session"
    assert first.headers["x-twitter-active-user"] == "yes"
    assert "x-client-transaction-id" not in first.headers
    variables = json.loads(first.params["variables"])
    assert variables["screen_name"] == "alice" and variables["withSafetyModeUserFields"] is True
    assert json.loads(first.params["features"]) == op.features
    assert second.path == first.path  # ct0 is obtained once


async def test_given_ct0_skips_the_bootstrap(peer: tuple[Script, str], tmp_path: Path) -> None:
    script, url = peer
    cookie = f"auth_token={AUTH_TOKEN}; ct0=mine"
    async with XClient(settings_for(url, tmp_path), cookie) as client:
        await client.graphql("UserByScreenName", {"screen_name": "alice"})
    (only,) = script.seen
    assert only.headers["x-csrf-token"] == "mine"


async def test_no_ct0_handed_out_is_an_auth_failure(
    peer: tuple[Script, str], tmp_path: Path
) -> None:
    script, url = peer
    script.ct0 = ""
    async with XClient(settings_for(url, tmp_path), AUTH_TOKEN) as client:
        with pytest.raises(AccountAuthFailed, match="herald accounts add") as caught:
            await client.graphql("UserByScreenName", {"screen_name": "alice"})
    assert_clean(caught.value)


X_ERRORS = [
    (
        Answer(401, {"errors": [{"code": 32, "message": "Could not authenticate you."}]}),
        AccountAuthFailed,
        "herald accounts add",
    ),
    (
        Answer(
            403, {"errors": [{"code": 353, "message": "This request requires a matching csrf"}]}
        ),
        AccountAuthFailed,
        "expired",
    ),
    (
        Answer(
            200, {"errors": [{"code": 326, "message": "Authorization: Denied by access control"}]}
        ),
        AccountLocked,
        "locked",
    ),
    (
        Answer(403, {"errors": [{"code": 64, "message": "Your account is suspended"}]}),
        AccountSuspended,
        "suspended",
    ),
    (
        Answer(200, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}),
        RateLimited,
        "rate limit",
    ),
    (
        Answer(503, {"errors": [{"code": 131, "message": "Internal error"}]}),
        UpstreamError,
        "HTTP 503",
    ),
    (Answer(502, raw=b"<html>bad gateway</html>"), UpstreamError, "HTTP 502"),
    (Answer(404, {}), SignatureRefused, "operations.json"),
    (Answer(404, raw=b""), SignatureRefused, "x-client-transaction-id"),
    (
        Answer(
            403,
            raw=b"<html><title>Just a moment...</title>challenge-platform</html>",
            headers={"content-type": "text/html"},
        ),
        ChallengeRequired,
        "challenge page",
    ),
    (Answer(200, raw=b"\x00\xffnot json{"), SchemaError, "not JSON"),
    (Answer(200, raw=b"[1, 2]"), SchemaError, "not an object"),
    (
        Answer(
            200,
            raw=b"<html><a href='/login'>Log in</a></html>",
            headers={"content-type": "text/html"},
        ),
        AccountAuthFailed,
        "logged-out page",
    ),
    (
        Answer(302, raw=b"", headers={"location": "https://x.com/i/flow/login"}),
        AccountAuthFailed,
        "logged-out page",
    ),
    (
        Answer(200, {"errors": [{"code": 999, "message": "Something new"}]}),
        UpstreamError,
        "Something new",
    ),
]


@pytest.mark.parametrize(("answer", "error", "words"), X_ERRORS)
async def test_error_mapping(
    peer: tuple[Script, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    answer: Answer,
    error: type[SourceError],
    words: str,
) -> None:
    script, url = peer
    script.then(answer)
    caplog.set_level(logging.DEBUG)
    async with XClient(settings_for(url, tmp_path), AUTH_TOKEN) as client:
        with pytest.raises(error) as caught:
            await client.graphql("UserByScreenName", {"screen_name": "alice"})
    assert type(caught.value) is error
    assert words.lower() in caught.value.detail.lower()
    assert caught.value.__cause__ is None or isinstance(caught.value.__cause__, Exception)
    assert_clean(caught.value, "csrf-from-server")
    leaks = [line for line in caplog.text.splitlines() if AUTH_TOKEN in line or "csrf-from" in line]
    assert not leaks


async def test_data_with_warnings_is_returned(peer: tuple[Script, str], tmp_path: Path) -> None:
    script, url = peer
    script.then(Answer(200, {**OK_USER, "errors": [{"code": 37, "message": "partial"}]}))
    async with XClient(settings_for(url, tmp_path), AUTH_TOKEN) as client:
        response = await client.graphql("UserByScreenName", {"screen_name": "alice"})
    assert response.body["data"] == OK_USER["data"]


async def test_429_carries_the_reset(peer: tuple[Script, str], tmp_path: Path) -> None:
    script, url = peer
    reset = int(time.time()) + 90
    headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
    script.then(Answer(429, {"errors": [{"code": 88, "message": "Rate limit"}]}, headers))
    async with XClient(settings_for(url, tmp_path), AUTH_TOKEN) as client:
        with pytest.raises(RateLimited) as caught:
            await client.graphql("UserTweets", {"userId": "42"})
    assert caught.value.retry_after is not None
    assert 85 <= caught.value.retry_after <= 91
    assert caught.value.counts_as_error is False


async def test_budget_headers_are_read(peer: tuple[Script, str], tmp_path: Path) -> None:
    script, url = peer
    headers = {"x-rate-limit-remaining": "49", "x-rate-limit-reset": "1900000000"}
    script.then(Answer(200, OK_USER, headers))
    async with XClient(settings_for(url, tmp_path), AUTH_TOKEN) as client:
        response = await client.graphql("UserByScreenName", {"screen_name": "alice"})
    assert response.budget is not None
    assert (response.budget.remaining, response.budget.reset) == (49, 1_900_000_000)


async def test_timeout(peer: tuple[Script, str], tmp_path: Path) -> None:
    script, url = peer
    script.then(Answer(delay=3))
    settings = settings_for(url, tmp_path, poll_timeout=0.3)
    async with XClient(settings, AUTH_TOKEN) as client:
        started = time.monotonic()
        with pytest.raises(FetchTimeout, match=r"within 0\.3s") as caught:
            await client.graphql("UserByScreenName", {"screen_name": "alice"})
    assert time.monotonic() - started < 2
    assert_clean(caught.value)


async def test_connection_refused(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with XClient(settings_for(url, tmp_path), AUTH_TOKEN) as client:
        with pytest.raises(UpstreamError, match="could not reach X") as caught:
            await client.graphql("UserByScreenName", {"screen_name": "alice"})
    assert_clean(caught.value)
    assert caught.value.__cause__ is not None


async def test_repr_hides_the_session(tmp_path: Path) -> None:
    client = XClient(settings_for("http://127.0.0.1:9", tmp_path), AUTH_TOKEN)
    assert AUTH_TOKEN not in repr(client)
    await client.aclose()
