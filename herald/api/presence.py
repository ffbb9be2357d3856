"""``GET /api/presence``: how many live clients are watching, across every node.

The same for every caller and holding no stream data: only counts per transport, never
who is connected (the admin-only ``GET /api/connections`` lists this node's connections).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from herald.api.access import require_caller
from herald.api.responses import JSON
from herald.delivery.presence import summarize
from herald.service import Herald
from herald.store.presence import RedisPresence

_COUNTS = {"type": "integer", "minimum": 0}
PRESENCE_SCHEMA = {
    "type": "object",
    "required": ["watching", "nodes", "transports", "interval"],
    "properties": {
        "watching": {**_COUNTS, "description": "live connections on every node"},
        "nodes": {**_COUNTS, "description": "nodes that reported within their lease"},
        "transports": {"type": "object", "additionalProperties": _COUNTS},
        "interval": {"type": "number", "description": "seconds between a node's reports"},
    },
}


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter(tags=["system"])

    @router.get(
        "/api/presence",
        dependencies=[Depends(require_caller)],
        responses={200: {"content": {"application/json": {"schema": PRESENCE_SCHEMA}}}},
    )
    async def presence() -> JSON:
        """Live connections (Socket.IO, ``/ws``, SSE) summed over every node sharing this
        store: this node's counted now, the others' as of their last report."""
        if herald.delivery is not None:
            return JSON(await herald.delivery.presence.snapshot())
        interval = herald.settings.presence_interval
        return JSON(summarize(await RedisPresence(herald.redis, herald.keys).nodes(), interval))

    return router
