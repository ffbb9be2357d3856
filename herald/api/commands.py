"""X write commands over REST: ``POST /api/commands``, ``GET /api/commands[/{id}]``.

A finished command answers 200 whatever its outcome (``state`` says succeeded, failed or
uncertain: the request worked, the command's fate is in the body); ``wait=false``, or a
``timeout`` that runs out first, answers 202 with the command as it stands. Refusals
before anything is sent are the usual ``{error, detail}``: 400 bad envelope or data, 403
writes off or a token that may not write, 409 account paused, 429 with ``Retry-After``.

Sending needs the write permission (admin, or the ``commands`` scope); reading needs a
token without a ``streams`` restriction, as commands reach across streams (docs/auth.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from herald.api import commands_schemas as schemas
from herald.api.access import require_all_streams, require_writer
from herald.api.body import read_json
from herald.api.openapi import errors
from herald.api.responses import JSON
from herald.auth import Principal
from herald.commands import entry
from herald.commands.base import CommandsService
from herald.service import Herald

MAX_LIST = 500
Writer = Annotated[Principal, Depends(require_writer)]


def commands_of(herald: Herald) -> CommandsService | None:
    """The started Herald's commands service (``None`` where none is served)."""
    return herald.commands


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["commands"])
    limit = herald.settings.max_body_bytes

    @router.post(
        "/commands",
        openapi_extra=schemas.REQUEST,
        responses={
            200: schemas.answered("Finished: state is succeeded, failed or uncertain"),
            202: schemas.answered("Accepted, not finished yet (wait=false or timeout)"),
            **errors(400, 403, 409, 413, 429, 503),
        },
    )
    async def submit(
        request: Request,
        principal: Writer,
        wait: bool = Query(True, description="false: answer 202 once the command is recorded"),
        timeout: float | None = Query(
            None, gt=0, le=entry.MAX_WAIT, description="Seconds to wait for the outcome"
        ),
    ) -> JSON:
        """Send an X write command ``{type, accountId?, commandId?, data}``.

        The same ``commandId`` again is the same command: answered with its first outcome,
        never sent to X twice."""
        body = await read_json(request, limit=limit)
        command = await entry.submit(
            commands_of(herald), principal, body, wait=wait, timeout=entry.wait_time(timeout)
        )
        return JSON(command, status_code=200 if entry.finished(command) else 202)

    read = [Depends(require_all_streams)]

    @router.get("/commands", dependencies=read, responses={200: schemas.LISTED, **errors(400, 503)})
    async def list_commands(limit: int = Query(50, ge=1, le=MAX_LIST)) -> JSON:
        """The most recent commands, newest first."""
        found: list[dict[str, Any]] = await entry.require(commands_of(herald)).list(limit=limit)
        return JSON({"commands": found, "count": len(found)})

    @router.get(
        "/commands/{command_id}",
        dependencies=read,
        responses={200: schemas.answered("The command as stored"), **errors(404, 503)},
    )
    async def get_command(command_id: str) -> JSON:
        """One command: its state, and its result or error once finished."""
        return JSON(await entry.require(commands_of(herald)).get(command_id))

    return router
