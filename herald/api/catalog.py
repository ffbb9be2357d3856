"""``GET /api/stream-types``: the catalog of stream types, for the dashboard and clients.

Read-only and the same for every caller: what each type watches (its target, with an
example and the pattern it must match), the events it emits, its payload schema and its
options. It is built from the entries the platforms declare, never from a list here.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from herald.api.access import require_caller
from herald.api.responses import JSON
from herald.service import Herald
from herald.sources.catalog import stream_types


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter(tags=["streams"])

    @router.get("/api/stream-types", dependencies=[Depends(require_caller)])
    async def list_stream_types() -> JSON:
        """Every stream type this herald serves: type, aliases, platform, target, events,
        payload key and schema, options."""
        served = set(herald.sources.stream_types)
        types = [t for t in stream_types().describe() if t["type"] in served]
        return JSON({"types": types, "count": len(types)})

    return router
