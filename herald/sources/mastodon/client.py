"""An HTTP client for one Mastodon instance's REST API, with shared rate-limit budgets.

Every answer's ``X-RateLimit-*`` headers are recorded per instance and caller (token or
anonymous) in the shared :class:`~herald.store.ratelimit.RateLimitStore`, and a request whose
budget is known to be spent is not sent: it raises :class:`RateLimited` at once. Failures
leave as :mod:`herald.errors` source errors; none quotes the token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson

from herald.errors import (
    AccountAuthFailed,
    FetchTimeout,
    RateLimited,
    SchemaError,
    SourceError,
    TimelineDisabled,
    UpstreamError,
    UserNotFound,
)
from herald.sources.mastodon.parse import Links, parse_links
from herald.sources.mastodon.targets import Instance
from herald.store.ratelimit import Budget, RateLimitStore

ENDPOINT = "api"  # Mastodon counts every call of a caller against one budget
USER_AGENT = "herald (+https://github.com/herald; Mastodon REST polling)"
DEFAULT_RETRY_AFTER = 300.0  # Mastodon's rate-limit window, when a 429 names no reset
TIMELINE_REFUSALS = frozenset({401, 403, 422})


def parse_reset(value: str) -> float:
    """An ISO 8601 time (what Mastodon sends) or epoch seconds, as epoch seconds."""
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def budget_from_headers(headers: object) -> Budget | None:
    """``X-RateLimit-Remaining`` and ``-Reset``; None when absent or malformed."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    try:
        return Budget(
            remaining=int(get("x-ratelimit-remaining")),
            reset=parse_reset(str(get("x-ratelimit-reset"))),
        )
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Answer:
    body: Any
    links: Links
    budget: Budget | None


def _message(response: httpx.Response) -> str:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])[:200]
    return ""


def _retry_after(response: httpx.Response, budget: Budget | None, now: float) -> float:
    header = response.headers.get("retry-after")
    if header:
        try:
            return max(1.0, float(header))
        except ValueError:
            pass
    if budget is not None and budget.reset > now:
        return max(1.0, budget.reset - now)
    return DEFAULT_RETRY_AFTER


def classify(
    what: str, response: httpx.Response, *, token: bool, timeline: bool, now: float
) -> SourceError | None:
    """The source error an answer means, or None for a usable 2xx."""
    status = response.status_code
    if status < 300:
        return None
    said = _message(response)
    quote = f": {said}" if said else ""
    if status == 429:
        budget = budget_from_headers(response.headers)
        wait = _retry_after(response, budget, now)
        return RateLimited(
            f"the instance's rate limit for {what} is spent (HTTP 429); waiting {wait:.0f}s",
            retry_after=wait,
        )
    if timeline and status in TIMELINE_REFUSALS and not (token and status == 401):
        who = "signed-in users or staff" if not token else "staff"
        return TimelineDisabled(
            f"{what} is disabled by the instance for this caller (HTTP {status}{quote}): "
            f"its admin restricted it to {who}"
            + ("" if token else "; a stream with a user authToken may read it")
        )
    if token and status in (401, 403):
        return AccountAuthFailed(
            f"the instance refused the access token for {what} (HTTP {status}{quote}): it was "
            "revoked or lacks the read scope; update the stream with a fresh authToken"
        )
    if status in (404, 410):
        return UserNotFound(f"{what}: not found on the instance (HTTP {status}{quote})")
    if status >= 500:
        return UpstreamError(f"the instance failed to answer {what} (HTTP {status}); retried")
    return UpstreamError(f"the instance refused {what} with HTTP {status}{quote}")


class MastodonClient:
    """One instance, one connection pool; a token is passed per request, never stored."""

    def __init__(
        self, instance: Instance, limits: RateLimitStore, *, timeout: float = 20.0
    ) -> None:
        self.instance = instance
        self._limits = limits
        self._http = httpx.AsyncClient(
            base_url=instance.base_url,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )

    async def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        token_id: str | None = None,
        what: str = "",
        timeline: bool = False,
    ) -> Answer:
        """GET ``path``; ``token_id`` names the caller's budget (None: anonymous)."""
        what = what or path
        scope = f"mastodon:{self.instance}:{token_id or 'anon'}"
        wait = await self._limits.check(scope, ENDPOINT)
        if wait is not None:
            raise RateLimited(
                f"the instance's rate limit is spent for this caller (reported by an earlier "
                f"answer); {what} waits {wait:.0f}s for the reset",
                retry_after=wait,
            )
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            response = await self._http.get(path, params=params, headers=headers)
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"{self.instance} did not answer {what} in time") from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"could not reach {self.instance} for {what} ({type(exc).__name__})"
            ) from exc
        now = time.time()
        budget = budget_from_headers(response.headers)
        if budget is not None:
            await self._limits.record(scope, ENDPOINT, budget)
        error = classify(what, response, token=token is not None, timeline=timeline, now=now)
        if error is not None:
            if isinstance(error, RateLimited) and budget is None:
                spent = Budget(0, now + (error.retry_after or DEFAULT_RETRY_AFTER))
                await self._limits.record(scope, ENDPOINT, spent)
            raise error
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise SchemaError(f"{self.instance} answered {what} with something not JSON") from exc
        return Answer(body, parse_links(response.headers.get("link")), budget)

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"MastodonClient({self.instance.base_url!r})"
