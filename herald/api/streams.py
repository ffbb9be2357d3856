"""REST routes for streams: the seed's three calls, and the rest of the lifecycle."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from herald.api.body import only, read_json
from herald.api.responses import JSON
from herald.engine.manager import StreamManager
from herald.errors import ValidationError
from herald.service import Herald

START_FIELDS = {"type", "username", "interval", "authToken", "userId", "options"}
UPDATE_FIELDS = {"interval", "authToken", "options"}


def _body_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": bool(required),
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": properties, "required": required}
                }
            },
        }
    }


_START_DOC = _body_schema(
    {
        "type": {"type": "string", "enum": ["tweet", "follower", "mention"]},
        "username": {"type": "string", "pattern": "^@?[A-Za-z0-9_]{1,15}$"},
        "interval": {"type": "number", "description": "seconds (15 to 3600, default 60)"},
        "authToken": {"type": "string", "description": "X auth_token cookie; stored encrypted"},
        "userId": {"type": "string"},
        "options": {"type": "object", "properties": {"followerSnapshotLimit": {"type": "integer"}}},
    },
    ["type", "username"],
)
_STOP_DOC = _body_schema({"streamId": {"type": "string"}}, ["streamId"])
_UPDATE_DOC = _body_schema(
    {
        "interval": {"type": "number"},
        "authToken": {"type": "string"},
        "options": {"type": "object"},
    },
    [],
)


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter(prefix="/api/streams", tags=["streams"])
    _collection_routes(router, herald.manager, herald.settings.max_body_bytes)
    _stream_routes(router, herald.manager, herald.settings.max_body_bytes)
    return router


def _collection_routes(router: APIRouter, manager: StreamManager, limit: int) -> None:

    @router.post("/start", status_code=201, openapi_extra=_START_DOC)
    async def start(request: Request) -> JSON:
        """Start a stream. ``interval`` is given in seconds and answered in ms, as in the seed."""
        body = only(await read_json(request, limit=limit), START_FIELDS)
        stream = await manager.create(
            type=body.get("type"),  # type: ignore[arg-type]  # validated inside
            username=body.get("username"),  # type: ignore[arg-type]
            interval=body.get("interval"),
            auth_token=body.get("authToken"),
            user_id=body.get("userId"),
            options=body.get("options"),
        )
        return JSON(stream, status_code=201)

    @router.get("")
    async def list_streams() -> JSON:
        streams = await manager.list_streams()
        return JSON({"streams": streams, "count": len(streams)})

    @router.post("/stop", openapi_extra=_STOP_DOC)
    async def stop(request: Request) -> JSON:
        """Stop and remove a stream. The body may come without a JSON Content-Type."""
        body = only(await read_json(request, limit=limit), {"streamId"})
        stream_id = body.get("streamId")
        if not isinstance(stream_id, str) or not stream_id:
            raise ValidationError("streamId: required, a non-empty string")
        return JSON(await manager.stop(stream_id))

    @router.post("/stop-all")
    async def stop_all() -> JSON:
        return JSON(await manager.stop_all())

    @router.get("/stats")
    async def stats() -> JSON:
        return JSON(await manager.stats())


def _stream_routes(router: APIRouter, manager: StreamManager, limit: int) -> None:
    @router.get("/{stream_id}")
    async def status(stream_id: str) -> JSON:
        return JSON(await manager.status(stream_id))

    @router.patch("/{stream_id}", openapi_extra=_UPDATE_DOC)
    async def update(stream_id: str, request: Request) -> JSON:
        body = only(await read_json(request, limit=limit), UPDATE_FIELDS)
        return JSON(await manager.update(stream_id, **body))

    @router.post("/{stream_id}/pause")
    async def pause(stream_id: str) -> JSON:
        return JSON(await manager.pause(stream_id))

    @router.post("/{stream_id}/resume")
    async def resume(stream_id: str) -> JSON:
        return JSON(await manager.resume(stream_id))

    @router.post("/{stream_id}/poll")
    async def poll(stream_id: str) -> JSON:
        result = await manager.poll_now(stream_id)
        return JSON(result, status_code=409 if result["outcome"] == "busy" else 200)

    @router.get("/{stream_id}/history")
    async def history(stream_id: str, limit: int = Query(50, ge=1)) -> JSON:
        events = await manager.history(stream_id, limit)
        return JSON({"streamId": stream_id, "events": events, "count": len(events)})
