"""How X's answers are read: the usable JSON body, or the source error a user can act on.

X answers a refusal in many ways (a status, an ``errors`` list beside HTTP 200, a login or
challenge page); this module turns each into one :mod:`herald.errors` class whose detail says
what to do. None of them carries the cookie, the CSRF token or a request's headers.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from herald.errors import (
    AccountAuthFailed,
    AccountLocked,
    AccountSuspended,
    AutomationSuspected,
    ChallengeRequired,
    RateLimited,
    SignatureRefused,
    SourceError,
    UpstreamError,
    WriteRefused,
)
from herald.sources.x.ratelimit import Budget

DEFAULT_RETRY_AFTER = 15 * 60.0  # X's rate-limit window, when a 429 names no reset


class BadRequest(UpstreamError):
    """X refused the request itself (HTTP 400): a parameter it no longer accepts, such as
    an inbox cursor too old to resume from."""


REFRESH_HINT = "add a fresh one with `herald accounts add`"


def _decode_json(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _x_errors(body: Any) -> list[tuple[int, str]]:
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return []
    found: list[tuple[int, str]] = []
    for item in body["errors"]:
        if isinstance(item, dict):
            code = item.get("code")
            found.append((code if isinstance(code, int) else -1, str(item.get("message", ""))))
    return found


def _looks_logged_out(response: httpx.Response) -> bool:
    """X's logged-out answer: a redirect to its login flow, or its HTML login page."""
    location = response.headers.get("location", "")
    if response.is_redirect and ("login" in location or "/i/flow" in location):
        return True
    text = response.text[:20_000].lower() if response.content else ""
    is_html = "text/html" in response.headers.get("content-type", "") or text.startswith("<")
    return is_html and ("login" in text or "log in" in text or "sign in" in text)


CHALLENGE_MARKS = ("challenge", "just a moment", "captcha", "arkose")


def _looks_like_challenge(response: httpx.Response) -> bool:
    """An HTML interstitial asking the client to run a script (Cloudflare's or Arkose's
    challenge) instead of the JSON asked for: a browser gets past it, httpx cannot."""
    text = response.text[:20_000].lower() if response.content else ""
    is_html = "text/html" in response.headers.get("content-type", "") or text.startswith("<")
    return is_html and any(mark in text for mark in CHALLENGE_MARKS)


def _rate_limited(what: str, response: httpx.Response, now: float) -> RateLimited:
    budget = Budget.from_headers(response.headers)
    retry_after = max(1.0, budget.reset - now) if budget else DEFAULT_RETRY_AFTER
    return RateLimited(
        f"X's rate limit for {what} is spent on this account (HTTP {response.status_code}); "
        f"waiting {retry_after:.0f}s for the reset",
        retry_after=retry_after,
    )


def _account_error(what: str, status: int, errors: list[tuple[int, str]]) -> SourceError | None:
    codes = {code for code, _ in errors}
    text = " ".join(message.lower() for _, message in errors)
    if 226 in codes:
        return AutomationSuspected(
            f"X refused {what} as looking automated (X error 226): this account's writes "
            "are paused; try again later, by hand on x.com first"
        )
    if 326 in codes or "locked" in text:
        return AccountLocked(
            f"X locked the account behind the session cookie ({what}): unlock it on x.com, "
            "then poll again"
        )
    if 64 in codes or "suspended" in text:
        return AccountSuspended(
            f"X suspended the account behind the session cookie ({what}); use another account"
        )
    if 32 in codes or 353 in codes or status in (401, 403):
        return AccountAuthFailed(
            f"X refused the session cookie (HTTP {status}{_codes(codes)}) for {what}: it has "
            f"expired or was logged out; {REFRESH_HINT}"
        )
    return None


def _codes(codes: set[int]) -> str:
    known = sorted(code for code in codes if code >= 0)
    return f", X error {', '.join(map(str, known))}" if known else ""


def classify(what: str, response: httpx.Response, now: float) -> Any:
    """The decoded JSON body of a usable answer; raise the matching source error otherwise.

    Returns None for a 2xx body that is not JSON: the caller decides what that means.
    """
    status = response.status_code
    body = _decode_json(response.content) if response.content else None
    errors = _x_errors(body)
    if status == 429 or any(code == 88 for code, _ in errors):
        raise _rate_limited(what, response, now)
    has_data = isinstance(body, dict) and bool(body.get("data"))
    if body is None and status in (403, 503) and _looks_like_challenge(response):
        raise ChallengeRequired(
            f"X answered {what} with a challenge page (HTTP {status}) instead of JSON; "
            "the browser path (HERALD_BROWSER) can get past it"
        )
    if status >= 400 or (errors and not has_data):
        account = _account_error(what, status, errors)
        if account is not None:
            raise account
    if body is None and _looks_logged_out(response):
        raise AccountAuthFailed(
            f"X answered {what} with its logged-out page: the session cookie is no longer "
            f"signed in; {REFRESH_HINT}"
        )
    if status >= 500:
        raise UpstreamError(f"X failed to answer {what} (HTTP {status}); it will be retried")
    if status == 404:
        raise SignatureRefused(
            f"X refused {what} with HTTP 404: its request signature (x-client-transaction-id) "
            "or its query id is not what x.com accepts now (upgrade twscrape or update "
            "operations.json; the browser path, HERALD_BROWSER, can serve meanwhile)"
        )
    if status >= 300:
        refused = BadRequest if status == 400 else UpstreamError
        raise refused(f"X refused {what} with HTTP {status}")
    if errors and not has_data:
        messages = "; ".join(f"({code}) {message}" for code, message in errors)[:300]
        raise UpstreamError(f"X answered {what} with errors and no data: {messages}")
    return body


# Codes that say something about the session or the account: classify() handles them.
_ACCOUNT_CODES = frozenset({32, 64, 88, 226, 326, 353})


def raise_refusal(what: str, response: httpx.Response) -> None:
    """A mutation X answered with its own errors and no data (X sends these with HTTP 200
    or 4xx): :class:`WriteRefused` with the codes, so the caller can tell "already liked"
    from "no such tweet"."""
    body = _decode_json(response.content) if response.content else None
    errors = _x_errors(body)
    codes = frozenset(code for code, _ in errors if code >= 0)
    has_data = isinstance(body, dict) and bool(body.get("data"))
    if not errors or has_data or codes & _ACCOUNT_CODES or response.status_code in (401, 429):
        return
    messages = "; ".join(f"({code}) {message}" for code, message in errors)[:300]
    raise WriteRefused(f"X refused {what}: {messages}", x_codes=codes)
