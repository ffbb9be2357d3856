"""Search and export over REST: ``GET /api/search`` and ``GET /api/export``.

Both read the archive (not the capped log), so they reach events the log has trimmed.
Any authenticated caller may use them; a token limited to some streams sees only those
(docs/auth.md). The export streams: rows are read from the archive a chunk at a time and
written out as they come, so its memory does not grow with its size.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import StreamingResponse

from herald.api.access import Caller, require_caller
from herald.api.openapi import errors
from herald.api.responses import JSON
from herald.archive import requests as archive_requests
from herald.archive.requests import export_chunks, need_archive, read_format, read_request
from herald.errors import ValidationError
from herald.service import Herald

KNOWN = frozenset(
    {"q", "platform", "type", "streamId", "from", "to", "limit", "cursor", "format", "token"}
)
_MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["archive"])
    caller = [Depends(require_caller)]

    @router.get("/search", dependencies=caller, responses=errors(400, 403, 503))
    async def search(request: Request, principal: Caller) -> JSON:
        """Full-text search over every archived event, newest first, with highlights.

        ``q``: words (all required), ``"a phrase"``, ``prefix*``; filters ``platform``,
        ``type``, ``streamId`` (comma-separated or repeated), ``from``, ``to`` (ISO 8601
        or epoch ms); ``limit`` (1-200, default 50) and ``cursor`` (from the last page).
        Answers ``{results: [{event, highlight}], count, cursor}``.
        """
        params = _params(request)
        return JSON(await archive_requests.search(herald.archive, params, principal))

    @router.get(
        "/export",
        dependencies=caller,
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "The events, streamed.",
                "content": {_MEDIA["jsonl"]: {}, _MEDIA["csv"]: {}},
            },
            **errors(400, 403, 503),
        },
    )
    async def export(request: Request, principal: Caller) -> StreamingResponse:
        """Every archived event matching the search's filters (and ``q``), oldest first,
        streamed as ``format=jsonl`` (one event per line, the default) or ``csv``."""
        params = _params(request)
        fmt = read_format(request.query_params.get("format"))
        req = read_request(params, principal)
        archive = need_archive(herald.archive)
        return StreamingResponse(
            export_chunks(archive, req, fmt),
            media_type=_MEDIA[fmt],
            headers={"Content-Disposition": f'attachment; filename="herald-export.{fmt}"'},
        )

    return router


def _params(request: Request) -> dict[str, list[str]]:
    """The query parameters; an unknown one is refused rather than silently ignored."""
    query = request.query_params
    unknown = sorted(set(query) - KNOWN)
    if unknown:
        raise ValidationError(
            f"{unknown[0]}: unknown parameter (known: {', '.join(sorted(KNOWN - {'token'}))})"
        )
    return {key: query.getlist(key) for key in query}
