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

import httpx

from herald import __version__
from herald.webhooks import presets, signing
from herald.webhooks.safety import UnsafeTarget, resolve

USER_AGENT = f"herald-webhooks/{__version__}"


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


def new_client(limits: Limits) -> httpx.AsyncClient:
    """A client for one endpoint's deliveries (keep-alive between them)."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(
            limits.timeout, connect=limits.connect_timeout, pool=limits.connect_timeout
        ),
        limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
        headers={"user-agent": USER_AGENT},
    )


async def send(
    client: httpx.AsyncClient,
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
    headers = signing.headers(key, msg_id, int(time.time()), body)
    headers["content-type"] = "application/json"
    headers["host"] = target.host
    extensions: dict[str, Any] = {}
    if url.startswith("https"):
        extensions["sni_hostname"] = target.hostname
    try:
        async with asyncio.timeout(limits.timeout + limits.connect_timeout):
            async with client.stream(
                "POST", target.pinned, content=body, headers=headers, extensions=extensions
            ) as response:
                size, truncated = 0, False
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > limits.max_response:
                        truncated = True
                        break
                status = response.status_code
                retry = response.headers.get("retry-after")
    except (TimeoutError, httpx.TimeoutException):
        return Result(None, took(), f"timed out after {took() / 1000:.1f}s")
    except httpx.HTTPError as exc:
        return Result(None, took(), f"{type(exc).__name__}: {_reason(exc)}")
    except OSError as exc:
        return Result(None, took(), f"{type(exc).__name__}: {exc.strerror or 'network error'}")
    error = None
    if not 200 <= status < 300:
        error = f"HTTP {status}"
        if 300 <= status < 400:
            error += " (redirects are not followed)"
    return Result(status, took(), error, retry, truncated)


def _reason(exc: httpx.HTTPError) -> str:
    """The exception's message without the request (the URL may carry a token)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if "://" in text:
        return "request failed"
    return text[:200] or "request failed"
