"""REST routes for streams: the seed's three calls, and the rest of the lifecycle."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from herald.api import schemas
from herald.api.access import (
    Caller,
    Forbidden,
    StreamCaller,
    check_stream,
    require_admin,
    require_all_streams,
    require_stream,
    visible,
)
from herald.api.body import only, read_json
from herald.api.openapi import errors
from herald.api.responses import JSON
from herald.errors import HeraldError, ValidationError
from herald.service import Herald

START_FIELDS = {"type", "target", "username", "interval", "authToken", "userId", "options"}
UPDATE_FIELDS = {"interval", "authToken", "options"}
# Every route declares one access level (herald.api.access, docs/auth.md).
ADMIN = [Depends(require_admin)]
ALL_STREAMS = [Depends(require_all_streams)]
ONE_STREAM = [Depends(require_stream)]


class PollBusy(HeraldError):
    """Poll-now while a poll of the stream runs (here or in a worker)."""

    code = "poll_busy"
    status = 409
    fields: dict[str, Any] = {"outcome": "busy"}  # the dashboard reads it


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter(prefix="/api/streams", tags=["streams"])
    _collection_routes(router, herald)
    _stream_routes(router, herald)
    return router


def _collection_routes(router: APIRouter, herald: Herald) -> None:
    manager, limit = herald.manager, herald.settings.max_body_bytes

    @router.post(
        "/start",
        status_code=201,
        openapi_extra=schemas.start(herald.settings),
        dependencies=ADMIN,
        responses=errors(400, 409, 413),
    )
    async def start(request: Request) -> JSON:
        """Start a stream of ``type`` watching ``target`` (``username`` is its alias, the
        seed's name for it). ``interval`` is given in seconds and answered in ms, as in
        the seed. ``GET /api/stream-types`` lists the types, their targets and options."""
        body = only(await read_json(request, limit=limit), START_FIELDS)
        for name in ("target", "username"):  # present means given: null is no target
            if name in body and not isinstance(body[name], str):
                raise ValidationError(f"{name}: must be a string (got {body[name]!r})")
        stream = await manager.create(
            type=body.get("type"),  # type: ignore[arg-type]  # validated inside
            target=body.get("target"),
            username=body.get("username"),
            interval=body.get("interval"),
            auth_token=body.get("authToken"),
            user_id=body.get("userId"),
            options=body.get("options"),
        )
        return JSON(stream, status_code=201)

    @router.get("")
    async def list_streams(principal: Caller) -> JSON:
        """Every stream this caller may see (a token's ``streams`` claim filters the list)."""
        streams = visible(principal, await manager.list_streams())
        return JSON({"streams": streams, "count": len(streams)})

    @router.post("/stop", openapi_extra=schemas.STOP, responses=errors(400, 404, 413))
    async def stop(request: Request, principal: Caller) -> JSON:
        """Stop and remove a stream. The body may come without a JSON Content-Type."""
        body = only(await read_json(request, limit=limit), {"streamId"})
        stream_id = body.get("streamId")
        if not isinstance(stream_id, str) or not stream_id:
            raise ValidationError("streamId: required, a non-empty string")
        check_stream(principal, stream_id)
        return JSON(await manager.stop(stream_id))

    @router.post("/stop-all", dependencies=ADMIN)
    async def stop_all() -> JSON:
        return JSON(await manager.stop_all())

    @router.get("/stats", dependencies=ALL_STREAMS)
    async def stats() -> JSON:
        return JSON(await manager.stats())


def _stream_routes(router: APIRouter, herald: Herald) -> None:
    manager, limit = herald.manager, herald.settings.max_body_bytes
    history_size = herald.settings.history_size

    @router.get("/{stream_id}", dependencies=ONE_STREAM, responses=errors(404))
    async def status(stream_id: str) -> JSON:
        return JSON(await manager.status(stream_id))

    @router.patch(
        "/{stream_id}",
        openapi_extra=schemas.update(herald.settings),
        responses=errors(400, 404, 413),
    )
    async def update(stream_id: str, request: Request, principal: StreamCaller) -> JSON:
        """Change interval, options or authToken; a refused change stores nothing."""
        body = only(await read_json(request, limit=limit), UPDATE_FIELDS)
        if "authToken" in body and not principal.admin:
            raise Forbidden("authToken: adding an X session needs an API key or the admin claim")
        return JSON(await manager.update(stream_id, **body))

    @router.post("/{stream_id}/pause", dependencies=ONE_STREAM, responses=errors(404))
    async def pause(stream_id: str) -> JSON:
        return JSON(await manager.pause(stream_id))

    @router.post("/{stream_id}/resume", dependencies=ONE_STREAM, responses=errors(404))
    async def resume(stream_id: str) -> JSON:
        return JSON(await manager.resume(stream_id))

    @router.post("/{stream_id}/poll", dependencies=ONE_STREAM, responses=errors(400, 404, 409))
    async def poll(stream_id: str) -> JSON:
        """Poll now. 409 ``poll_busy`` when a poll of this stream is already running."""
        result = await manager.poll_now(stream_id)
        if result["outcome"] == "busy":
            raise PollBusy(
                f"stream {stream_id} is busy: a poll is already running; try again shortly"
            )
        return JSON(result)

    @router.get("/{stream_id}/history", dependencies=ONE_STREAM, responses=errors(400, 404))
    async def history(stream_id: str, limit: int = Query(50, ge=1, le=history_size)) -> JSON:
        events = await manager.history(stream_id, limit)
        return JSON({"streamId": stream_id, "events": events, "count": len(events)})
