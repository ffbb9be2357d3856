"""One signed POST to an endpoint, bounded in every way, and what came of it.

- The host is resolved and checked before every send, and the request goes to the checked
  address (:mod:`herald.webhooks.safety`: no DNS rebinding past the check); TLS still
  verifies the certificate against the URL's host name (SNI).
- Redirects are not followed: a 3xx is a failed attempt ("redirects are not followed"),
  since following one could lead to an address that was never checked.
- A connect timeout, a read timeout and an overall deadline bound the attempt; at most
  ``max_response`` bytes of the answer are read, the rest is dropped with the connection.
- Nothing of the secret reaches the result: errors name the kind of failure, not the
  request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from herald.webhooks import presets, signing
from herald.webhooks.http import Connection, HttpError
from herald.webhooks.safety import Target, UnsafeTarget, resolve

USER_AGENT = "herald-webhooks"
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


@dataclass(frozen=True, slots=True)
class Result:
    """What one attempt came to; ``status`` is None when no answer was read."""

    status: int | None
    latency_ms: float
    error: str | None = None
    retry_after: str | None = None
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Limits:
    connect_timeout: float = 5.0
    timeout: float = 15.0
    max_response: int = 64 * 1024
    allow_private: bool = False


def new_client(limits: Limits) -> Connection:
    """The connection for one endpoint's deliveries (kept alive between them)."""
    return Connection()


def _header_value(value: str) -> str:
    """A header value as printable ASCII: anything else is percent-encoded (an eventId
    made from a feed's entry id could otherwise carry a line break into the headers)."""
    if value.isascii() and value.isprintable():
        return value
    return quote(value, safe="".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%"))


def _request(target: Target, body: bytes, headers: dict[str, str]) -> bytes:
    parts = urlsplit(target.url)
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_PATH_SAFE + "?")
    lines = [
        f"POST {path} HTTP/1.1",
        f"host: {target.host}",
        f"user-agent: {USER_AGENT}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


async def send(
    client: Connection,
    limits: Limits,
    *,
    url: str,
    key: bytes,
    fmt: str,
    msg_id: str,
    data: bytes,
    event: Mapping[str, Any] | None = None,
) -> Result:
    """POST the event (``data``: its exact JSON; ``fmt``: the preset) signed with ``key``."""
    start = time.perf_counter()

    def took() -> float:
        return round((time.perf_counter() - start) * 1000, 2)

    try:
        target = await resolve(url, allow_private=limits.allow_private)
    except UnsafeTarget as exc:
        return Result(None, took(), f"refused: {exc}")
    body = presets.render(fmt, data, event)
    msg_id = _header_value(msg_id)
    request = _request(target, body, signing.headers(key, msg_id, int(time.time()), body))
    port = target.port
    tls = target.hostname if url.startswith("https") else None
    try:
        async with asyncio.timeout(limits.timeout + limits.connect_timeout):
            answer = await client.post(
                target.address,
                port,
                tls,
                request,
                connect_timeout=limits.connect_timeout,
                cap=limits.max_response,
            )
    except TimeoutError:
        return Result(None, took(), f"timed out after {took() / 1000:.1f}s")
    except HttpError as exc:
        return Result(None, took(), str(exc))
    status = answer.status
    error = None
    if not 200 <= status < 300:
        error = f"HTTP {status}"
        if 300 <= status < 400:
            error += " (redirects are not followed)"
    return Result(status, took(), error, answer.headers.get("retry-after"), answer.truncated)
