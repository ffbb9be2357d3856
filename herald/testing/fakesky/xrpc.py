"""The XRPC methods herald reads besides Jetstream: handle resolution and profiles, with
the error body atproto services send (``{"error", "message"}``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from herald.testing.fakesky.service import FakeSky, fakesky_of

router = APIRouter(prefix="/xrpc")
MAX_ACTORS = 25


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def _refused(fake: FakeSky, method: str) -> JSONResponse | None:
    fake.requests[method] += 1
    status = fake.take_refusal(method)
    if status is None:
        return None
    return _error(status, "InternalServerError" if status >= 500 else "Refused", "fault")


@router.get("/com.atproto.identity.resolveHandle", response_model=None)
async def resolve_handle(request: Request, handle: str = "") -> JSONResponse | dict[str, Any]:
    fake = fakesky_of(request)
    refused = _refused(fake, "resolveHandle")
    if refused is not None:
        return refused
    if not handle:
        return _error(400, "InvalidRequest", 'Error: Params must have the property "handle"')
    account = fake.world.find(handle) if not handle.startswith("did:") else None
    if account is None:
        return _error(400, "InvalidRequest", "Unable to resolve handle")
    return {"did": account.did}


@router.get("/app.bsky.actor.getProfile", response_model=None)
async def get_profile(request: Request, actor: str = "") -> JSONResponse | dict[str, Any]:
    fake = fakesky_of(request)
    refused = _refused(fake, "getProfile")
    if refused is not None:
        return refused
    account = fake.world.find(actor) if actor else None
    if account is None:
        return _error(400, "InvalidRequest", "Profile not found")
    if not account.active:
        return _error(400, "AccountDeactivated", "Account is deactivated")
    return account.profile()


@router.get("/app.bsky.actor.getProfiles", response_model=None)
async def get_profiles(
    request: Request, actors: Annotated[list[str] | None, Query()] = None
) -> JSONResponse | dict[str, Any]:
    fake = fakesky_of(request)
    refused = _refused(fake, "getProfiles")
    if refused is not None:
        return refused
    actors = actors or []
    if not actors or len(actors) > MAX_ACTORS:
        return _error(400, "InvalidRequest", f"actors: 1 to {MAX_ACTORS} actors")
    found = [fake.world.find(a) for a in actors]
    return {"profiles": [a.profile() for a in found if a is not None and a.active]}
