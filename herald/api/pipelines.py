"""Pipelines over REST: list, status, pause, resume, replay.

Reading covers every stream (a status shows dead letters, which hold events of any stream),
so it needs a token without a ``streams`` restriction; steering needs admin.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from herald.api import schemas
from herald.api.access import require_admin, require_all_streams
from herald.api.body import only, read_json
from herald.api.openapi import errors
from herald.api.responses import JSON
from herald.service import Herald

REPLAY_FIELDS = {"deadLetters", "from", "to", "limit", "reset"}
_BOUND = {
    "type": "string",
    "description": "a log offset (1700000000000-0), an ISO 8601 time, or a time ago (24h)",
}
REPLAY = schemas.body(
    {
        "deadLetters": {"type": "boolean"},
        "from": _BOUND,
        "to": _BOUND,
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        "reset": {"type": "boolean"},
    },
    [],
)


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter(prefix="/api/pipelines", tags=["pipelines"])
    read = [Depends(require_all_streams)]
    admin = [Depends(require_admin)]
    limit = herald.settings.max_body_bytes

    @router.get("", dependencies=read)
    async def list_pipelines() -> JSON:
        """Every declared pipeline with its status."""
        found = await herald.pipelines.list()
        return JSON({"pipelines": found, "count": len(found)})

    @router.get("/{pipeline}", dependencies=read, responses=errors(404))
    async def status(pipeline: str) -> JSON:
        """Lag, rates, errors, state size, dead letters (the newest 20), owner."""
        return JSON(await herald.pipelines.status(pipeline))

    @router.post("/{pipeline}/pause", dependencies=admin, responses=errors(404))
    async def pause(pipeline: str) -> JSON:
        return JSON(await herald.pipelines.pause(pipeline))

    @router.post("/{pipeline}/resume", dependencies=admin, responses=errors(404))
    async def resume(pipeline: str) -> JSON:
        """Run again; after a state error the state is tried again, never reset."""
        return JSON(await herald.pipelines.resume(pipeline))

    @router.post("/{pipeline}/replay", dependencies=admin, responses=errors(400, 404, 409, 413))
    async def replay(pipeline: str, request: Request) -> JSON:
        """``{deadLetters: true}`` retries the dead letters; ``{from, to?, limit?}`` runs the
        pipeline's code over that part of the log and answers its outputs (nothing is
        appended); ``{from, reset: true}`` drops the state and reads again from ``from``."""
        await herald.pipelines.require(pipeline)  # an unknown pipeline is a 404 whatever the body
        body = only(await read_json(request, limit=limit), REPLAY_FIELDS)
        return JSON(await herald.pipelines.replay(pipeline, body))

    return router
