"""Who may call which REST route: one FastAPI dependency per access level.

Every route under ``/api`` (and ``/metrics``) declares exactly one of these, and a test
walks the route table to make sure none is forgotten. The levels (docs/auth.md):

- :func:`require_caller`: any authenticated caller (what it reads is filtered by its claim);
- :func:`require_stream`: the ``{stream_id}`` in the path must be within the token's claim;
- :func:`require_all_streams`: aggregates over every stream (stats, metrics);
- :func:`require_admin`: what reaches beyond single streams (start, stop-all, accounts);
- :func:`require_writer`: acting on X (commands): admin, or the ``commands`` scope.

A read-only caller (``HERALD_READ_API_KEYS``, or the ``read-only`` scope) passes only reads.

The guard middleware authenticates first and leaves the :class:`Principal` on
``request.state``; the dependencies only decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Request

from herald.auth import (
    ANONYMOUS,
    Authenticator,
    Principal,
    check_reads_only,
    token_from_headers_and_query,
)
from herald.errors import Forbidden

PRINCIPAL_STATE = "principal"
__all__ = [
    "ACCESS_LEVELS",
    "Caller",
    "Forbidden",
    "StreamCaller",
    "attach",
    "check_reads_only",
    "check_stream",
    "require_admin",
    "require_all_streams",
    "require_caller",
    "require_stream",
    "require_writer",
    "visible",
]


def attach(request: Request, principal: Principal) -> None:
    """Called by the guard once the caller is known."""
    setattr(request.state, PRINCIPAL_STATE, principal)


async def require_caller(request: Request) -> Principal:
    """The authenticated caller; authenticates here when no guard did (auth off: anonymous).

    Every level builds on this one, so a read-only caller is refused here, once, on every
    route that is not a read: whatever level a route declares, it cannot forget the rule."""
    principal = getattr(request.state, PRINCIPAL_STATE, None)
    if not isinstance(principal, Principal):
        auth: Authenticator | None = getattr(request.app.state, "authenticator", None)
        if auth is None or not auth.enabled:
            return ANONYMOUS
        headers, query = request.headers, request.query_params
        principal = auth.authenticate(token_from_headers_and_query(headers, query))
    check_reads_only(principal, request.method)
    return principal


Caller = Annotated[Principal, Depends(require_caller)]


def check_stream(principal: Principal, stream_id: str) -> None:
    """403 unless the caller's ``streams`` claim covers ``stream_id``."""
    if not principal.may_access(stream_id):
        raise Forbidden(f"streamId: this token may not access stream {stream_id!r}")


async def require_stream(stream_id: str, principal: Caller) -> Principal:
    check_stream(principal, stream_id)
    return principal


async def require_all_streams(principal: Caller) -> Principal:
    if not principal.all_streams:
        raise Forbidden("this route covers every stream; this token is limited to some streams")
    return principal


async def require_admin(principal: Caller) -> Principal:
    """For routes beyond single streams; API keys and JWTs with ``admin: true`` pass."""
    if not principal.admin:
        raise Forbidden("this route needs an API key or a token with the admin claim")
    return principal


async def require_writer(principal: Caller) -> Principal:
    """For X write commands: an administrator, or a token with the ``commands`` scope."""
    from herald.commands.entry import check_writer

    check_writer(principal)
    return principal


StreamCaller = Annotated[Principal, Depends(require_stream)]
ACCESS_LEVELS = (require_caller, require_stream, require_all_streams, require_admin, require_writer)


def visible(principal: Principal, streams: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The streams (public dicts with an ``id``) this caller may see."""
    return [s for s in streams if principal.may_access(str(s.get("id", "")))]
