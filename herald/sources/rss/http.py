"""Conditional GET of a feed with httpx: validators in, bytes (or "not modified") out.

Every failure leaves here as a :class:`herald.errors.SourceError` subclass with a reason a
user can act on; the feed URL itself is never repeated in a message (it may hold a token
in its query), the stream already names it.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from herald.errors import (
    DnsError,
    FeedHttpError,
    FeedTooLarge,
    FetchTimeout,
    RateLimited,
    RedirectError,
    TlsError,
    UpstreamError,
)

MAX_REDIRECTS = 5
MAX_VALIDATOR = 256
"""An ETag or Last-Modified longer than this is not kept (a cursor stays small)."""
USER_AGENT = "herald (RSS and Atom reader)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last 200 said, sent back so an unchanged feed costs a 304 and no parse."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True, slots=True)
class FeedResponse:
    not_modified: bool
    body: bytes
    url: str
    """The URL the body came from, after redirects (relative links resolve against it)."""
    content_type: str | None
    validators: Validators
    min_interval: float | None
    """``Retry-After`` or ``Cache-Control: max-age``, seconds, uncapped."""


def _validator(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_VALIDATOR or not value.isprintable():
        return None
    return value


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: a number of seconds or an HTTP date."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(when - (time.time() if now is None else now), 0.0)


def max_age(headers: Mapping[str, str]) -> float | None:
    """``Cache-Control: max-age=N`` in seconds (``no-cache``/``no-store`` ask for nothing)."""
    value = headers.get("cache-control")
    if not value:
        return None
    found: float | None = None
    for part in value.split(","):
        name, _, arg = part.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-cache", "no-store"):
            return None
        if name == "max-age" and arg.strip().strip('"').isdigit():
            found = float(arg.strip().strip('"'))
    return found


def _floor(headers: Mapping[str, str]) -> float | None:
    values = [v for v in (retry_after(headers), max_age(headers)) if v]
    return max(values) if values else None


def _caused_by(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _connect_error(exc: httpx.TransportError) -> Exception:
    tls = _caused_by(exc, ssl.SSLError)
    if tls is not None or "SSL" in str(exc) or "CERTIFICATE" in str(exc):
        why = getattr(tls, "verify_message", None)  # "self-signed certificate", "expired"...
        code = getattr(tls, "reason", None) or str(exc)
        reason = f"{why} ({code})" if why else code
        return TlsError(f"the TLS handshake with the feed's host failed: {reason}")
    if _caused_by(exc, socket.gaierror) is not None or "Name or service not known" in str(exc):
        return DnsError("the feed's host name does not resolve (DNS lookup failed)")
    return UpstreamError(f"could not connect to the feed's host: {exc or type(exc).__name__}")


class FeedClient:
    """One connection pool for every feed a worker polls."""

    def __init__(
        self,
        *,
        max_bytes: int,
        timeout: float,
        max_wait: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_wait = max_wait
        """The longest ``Retry-After`` of a rate limit herald honours (HERALD_MAX_INTERVAL)."""
        self._client = httpx.AsyncClient(
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, url: str, validators: Validators) -> FeedResponse:
        try:
            async with self._client.stream("GET", url, headers=validators.headers()) as response:
                return await self._answer(response, validators)
        except httpx.TooManyRedirects:
            raise RedirectError(
                f"the feed redirects in a loop or more than {MAX_REDIRECTS} times"
            ) from None
        except httpx.UnsupportedProtocol as exc:
            raise RedirectError(
                f"the feed redirects to a URL herald does not fetch ({exc})"
            ) from None
        except httpx.TimeoutException:
            raise FetchTimeout("the feed's host did not answer in time") from None
        except httpx.ConnectError as exc:
            raise _connect_error(exc) from None
        except httpx.TransportError as exc:
            raise UpstreamError(
                f"the connection to the feed's host broke: {exc or type(exc).__name__}"
            ) from None

    async def _answer(self, response: httpx.Response, sent: Validators) -> FeedResponse:
        status = response.status_code
        headers = response.headers
        if status == 304:
            return FeedResponse(
                not_modified=True,
                body=b"",
                url=str(response.url),
                content_type=None,
                validators=Validators(
                    _validator(headers.get("etag")) or sent.etag,
                    _validator(headers.get("last-modified")) or sent.last_modified,
                ),
                min_interval=_floor(headers),
            )
        if status == 429 or (status == 503 and "retry-after" in headers):
            wait = retry_after(headers)
            if wait is not None and self.max_wait is not None:
                wait = min(wait, self.max_wait)
            raise RateLimited(
                f"the feed's host asks herald to slow down (HTTP {status})"
                + (f", retry after {wait:.0f}s" if wait is not None else ""),
                retry_after=wait,
            )
        if status >= 500:
            raise UpstreamError(f"the feed's host answered HTTP {status}")
        if status >= 400:
            raise FeedHttpError(f"the feed URL answered HTTP {status}", http_status=status)
        if status != 200:
            raise UpstreamError(f"the feed URL answered HTTP {status}, not 200 with a feed")
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FeedTooLarge(self._too_large(f"{int(declared)} bytes declared"))
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FeedTooLarge(self._too_large("the download was cut off there"))
            chunks.append(chunk)
        return FeedResponse(
            not_modified=False,
            body=b"".join(chunks),
            url=str(response.url),
            content_type=headers.get("content-type"),
            validators=Validators(
                _validator(headers.get("etag")), _validator(headers.get("last-modified"))
            ),
            min_interval=_floor(headers),
        )

    def _too_large(self, why: str) -> str:
        return f"the feed is larger than HERALD_RSS_MAX_BYTES ({self.max_bytes} bytes; {why})"
