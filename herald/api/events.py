"""``GET /api/events/log``: read the global event log after a cursor, waiting briefly if empty.

The query is the one every transport validates (:func:`herald.delivery.subscription.
parse_query`), and the read is :func:`herald.delivery.pull.read_after`, which MCP's
``x_stream_events`` calls too; this module is only the HTTP binding.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from herald.auth import Authenticator, Principal, token_from_headers_and_query
from herald.delivery.pull import read_after
from herald.delivery.subscription import MAX_LIMIT, MAX_WAIT, parse_query, raw_from_params
from herald.service import Herald

__all__ = ["MAX_LIMIT", "MAX_WAIT", "build_router"]


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter(tags=["events"])
    auth = Authenticator.from_settings(herald.settings)

    @router.get("/api/events/log")
    async def event_log(
        request: Request,
        since: str | None = None,
        limit: int = 100,
        wait: float = 0,
    ) -> Response:
        """Events after ``since`` (an offset; omit for "from now"), with the next ``cursor``.

        ``streamIds``, ``types``, ``platforms`` and ``channels`` filter (comma-separated or
        repeated), ``sentiment`` is labels (``negative,neutral``) or a range as JSON
        (``{"min":-1,"max":-0.3}``), ``filters`` is the subscription filter as JSON;
        ``wait`` (seconds, at most 60) holds the answer until a first event arrives.
        """
        raw = raw_from_params(request.query_params, pull=True)
        query = parse_query(raw, _caller(auth, request), pull=True)
        page = await read_after(herald.log, query, gone=request.is_disconnected)
        return Response(page.encode(), media_type="application/json")

    return router


def _caller(auth: Authenticator, request: Request) -> Principal | None:
    """A token limited to some streams (a JWT ``streams`` claim) reads only those."""
    if not auth.enabled:
        return None
    return auth.authenticate(token_from_headers_and_query(request.headers, request.query_params))
