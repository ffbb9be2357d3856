"""What every RPC shares: who is calling (from the metadata) and herald errors as statuses.

A token comes as ``authorization: Bearer <token>`` or ``x-api-key: <key>``, checked by the
same :class:`~herald.auth.Authenticator` as REST and the other transports, so an API key
is an administrator and a JWT's ``streams`` and ``admin`` claims mean what they mean
everywhere (docs/auth.md). A refused call ends with a status whose details are the
human ``detail``; the machine ``error`` code travels in the trailing metadata
``herald-error``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

import grpc
from grpc import aio

from herald.auth import Authenticator, Principal
from herald.delivery.subscribe import RateLimited
from herald.errors import HeraldError

#: Trailing metadata keys: the machine error code, and where a cut-off client resumes.
ERROR_KEY = "herald-error"
RESUME_KEY = "herald-resume-offset"

_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ALREADY_EXISTS,
    413: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}


def status_of(exc: HeraldError) -> grpc.StatusCode:
    """The gRPC status of a herald error (its HTTP status, translated)."""
    return _CODES.get(exc.status, grpc.StatusCode.INTERNAL)


def token_from_metadata(metadata: Iterable[Any] | None) -> str | None:
    """``authorization: Bearer <token>`` first, then ``x-api-key``."""
    found: dict[str, str] = {}
    for item in metadata or ():
        key, value = item[0], item[1]
        if isinstance(value, str):
            found.setdefault(str(key).lower(), value)
    scheme, _, credentials = found.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return found.get("x-api-key", "").strip() or None


def authenticate(auth: Authenticator, context: aio.ServicerContext[Any, Any]) -> Principal:
    """The caller of this RPC; raises :class:`~herald.errors.AuthError` with the reason."""
    return auth.authenticate(token_from_metadata(context.invocation_metadata()))


def detail_of(exc: HeraldError) -> str:
    if isinstance(exc, RateLimited):
        return f"too many subscribe requests; retry in {exc.retry_after:.2f}s"
    return exc.detail


async def refuse(context: aio.ServicerContext[Any, Any], exc: HeraldError) -> NoReturn:
    """End the call with ``exc`` as its status (never returns)."""
    context.set_trailing_metadata(((ERROR_KEY, exc.code),))
    await context.abort(status_of(exc), detail_of(exc))
    raise AssertionError("abort returned")  # pragma: no cover - abort always raises


def peer_address(context: aio.ServicerContext[Any, Any]) -> tuple[str, str]:
    """``(host, host:port)`` of the caller, from ``ipv4:1.2.3.4:5`` or ``ipv6:[::1]:5``."""
    peer = context.peer() or "unknown"
    _, _, rest = peer.partition(":")
    host, _, _ = rest.rpartition(":")
    return (host.strip("[]") or "unknown"), (rest or peer)
