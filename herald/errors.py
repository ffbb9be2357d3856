"""One exception tree, rooted at HeraldError.

Adapters translate third-party errors into these with ``raise ... from exc`` so callers
never have to know which library sat underneath. Each error carries a short machine
``code`` (used as the ``error`` field of API answers) and a human ``detail``.
"""

from __future__ import annotations


class HeraldError(Exception):
    """Base of every error herald raises on purpose."""

    code = "herald_error"
    status = 500

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)
        self.detail = detail or self.code


class ConfigError(HeraldError):
    code = "config_error"


class ValidationError(HeraldError):
    """Bad input from a caller: nothing was stored."""

    code = "validation_error"
    status = 400


class NotFound(HeraldError):
    code = "not_found"
    status = 404


class StreamNotFound(NotFound):
    code = "stream_not_found"


class StreamExists(HeraldError):
    """A stream with the same type, username and account already runs."""

    code = "stream_exists"
    status = 409

    def __init__(self, detail: str, stream_id: str) -> None:
        super().__init__(detail)
        self.stream_id = stream_id


class StorageError(HeraldError):
    """Redis is unreachable or answered something unexpected."""

    code = "storage_error"
    status = 503


class AuthError(HeraldError):
    code = "unauthorized"
    status = 401


class Forbidden(HeraldError):
    """Authenticated, but the token's claims do not cover this stream or route."""

    code = "forbidden"
    status = 403


# --- source errors ------------------------------------------------------------------
class SourceError(HeraldError):
    """A fetch failed. ``kind`` is the label used in metrics and in ``stream:error``."""

    code = "source_error"
    kind = "source_error"
    status = 502
    counts_as_error = True

    def __init__(self, detail: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class FetchTimeout(SourceError):
    kind = "timeout"


class UpstreamError(SourceError):
    """The upstream answered with a server error (5xx) or refused the connection."""

    kind = "upstream_error"


class EmptyResponse(SourceError):
    """An empty or aborted fetch: unknown outcome, never "nothing new"."""

    kind = "empty_response"


class SchemaError(SourceError):
    """The response did not have the shape the parser knows; ``path`` says where."""

    kind = "schema_error"

    def __init__(self, detail: str, *, path: str = "") -> None:
        super().__init__(f"{detail} (at {path})" if path else detail)
        self.path = path


class RateLimited(SourceError):
    """The upstream budget is spent. Not counted as an error: the poll waits for the reset."""

    kind = "rate_limited"
    counts_as_error = False


class AccountAuthFailed(SourceError):
    """The session cookie was refused (expired, logged out)."""

    kind = "auth_failed"


class AccountLocked(SourceError):
    kind = "locked"


class AccountSuspended(SourceError):
    kind = "suspended"


class UserNotFound(SourceError):
    kind = "user_not_found"


class InternalError(SourceError):
    """Something other than a source error broke a poll (a bug, a bad stored value): still
    a counted ``stream:error``, never a silent loop."""

    kind = "internal"


class TimelineDisabled(SourceError):
    """A Mastodon instance does not show this timeline to herald's caller: since Mastodon
    4.5 an admin may restrict the live and hashtag feeds to signed-in users, or to staff
    (``timelines_access``). Reported as such, never as "nothing new"."""

    kind = "timeline_disabled"


# --- feed (RSS and Atom) errors -----------------------------------------------------------
class FeedHttpError(SourceError):
    """The feed URL answered a 4xx (other than 429): gone, forbidden, not found."""

    kind = "http_status"

    def __init__(self, detail: str, *, http_status: int) -> None:
        super().__init__(detail)
        self.http_status = http_status


class NotAFeed(SourceError):
    """The URL served something that is not RSS or Atom (an HTML page, JSON, an image)."""

    kind = "not_a_feed"


class InvalidFeed(SourceError):
    """The body claims to be a feed but is not well-formed XML."""

    kind = "invalid_feed"


class FeedTooLarge(SourceError):
    """The body is larger than ``HERALD_RSS_MAX_BYTES``; the download was cut off."""

    kind = "too_large"


class RedirectError(SourceError):
    """A redirect loop, too many redirects, or a redirect to a URL herald does not fetch."""

    kind = "redirect"


class TlsError(SourceError):
    """The TLS handshake failed: a bad or self-signed certificate, a name mismatch."""

    kind = "tls_error"


class DnsError(SourceError):
    """The feed's host name does not resolve."""

    kind = "dns_error"


# --- commands (X writes) ----------------------------------------------------------------
class WritesDisabled(HeraldError):
    """X writes are off unless ``HERALD_ENABLE_WRITES=true``: nothing was sent."""

    code = "writes_disabled"
    status = 403


class WriteRateLimited(HeraldError):
    """The account's write budget is spent: nothing was sent; try after ``retry_after``."""

    code = "write_rate_limited"
    status = 429

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class AccountPaused(HeraldError):
    """X answered 226 (automation) or 326 (locked) to this account: its writes are paused."""

    code = "account_paused"
    status = 409


class AutomationSuspected(SourceError):
    """X answered 226 ("this request looks like it might be automated") to a write."""

    kind = "automated"


class WriteOutcomeUnknown(SourceError):
    """A write reached X (or may have) but no answer came back: a timeout, a dropped
    connection, a 5xx. It may or may not have been applied, so it is never retried blindly."""

    kind = "uncertain"


class WriteRefused(SourceError):
    """X refused a write with an error of its own (not a session, lock or rate-limit one):
    ``x_codes`` holds its codes, e.g. 139 (already liked), 144 (no such tweet), 187
    (duplicate text), 327 (already retweeted)."""

    kind = "refused"

    def __init__(self, detail: str, *, x_codes: frozenset[int] = frozenset()) -> None:
        super().__init__(detail)
        self.x_codes = x_codes


# --- the browser fallback (X) -------------------------------------------------------------
class SignatureRefused(UpstreamError):
    """X answered a GraphQL request with 404: the request's signature
    (``x-client-transaction-id``) or its query id is not what x.com's web app sends now.
    A page of x.com in a browser runs X's own code, so the browser path can serve the poll."""

    kind = "signature_refused"


class ChallengeRequired(SourceError):
    """X answered with a challenge page (an HTML interstitial that only a browser running
    its script gets past), not with JSON."""

    kind = "challenge"


class BrowserUnavailable(SourceError):
    """The browser path was needed but is off, has no Chromium, or could not start it."""

    kind = "browser_unavailable"
