"""The control API under ``/_fakews``: faults, request counts, replay restarts and frames
injected into every open connection."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from herald.testing.fakews.faults import Fault, FaultMode
from herald.testing.fakews.service import fakews_of

router = APIRouter(prefix="/_fakews")


class NewFault(BaseModel):
    mode: FaultMode
    count: int = Field(default=1, ge=1, le=1_000_000)
    after: int = Field(default=0, ge=0)
    kind: str | None = Field(default=None, max_length=100)
    seconds: float = Field(default=5.0, gt=0, le=3600)
    bytes: int = Field(default=2 * 1024 * 1024, ge=1, le=64 * 1024 * 1024)
    code: int = Field(default=1000, ge=1000, le=4999)


class Replay(BaseModel):
    speed: float | None = Field(default=None, gt=0, le=1_000_000)
    max_speed: bool = Field(default=False, alias="maxSpeed")
    loop: bool | None = None


class Frames(BaseModel):
    frames: list[Any] = Field(min_length=1, max_length=10_000)
    """Each a JSON value (sent encoded) or a string (sent as it is, JSON or not)."""


@router.get("/recording")
async def recording(request: Request) -> dict[str, Any]:
    fake = fakews_of(request)
    return {**fake.recording.summary(), "speed": fake.speed, "loop": fake.loop}


@router.post("/faults", status_code=201)
async def add_fault(body: NewFault, request: Request) -> dict[str, Any]:
    fake = fakews_of(request)
    fake.faults.add(Fault(**body.model_dump()))
    return {"pending": fake.faults.pending()}


@router.get("/faults")
async def list_faults(request: Request) -> dict[str, Any]:
    return {"pending": fakews_of(request).faults.pending()}


@router.get("/requests")
async def requests_seen(request: Request) -> dict[str, Any]:
    return fakews_of(request).report()


@router.post("/replay")
async def replay(body: Replay, request: Request) -> dict[str, Any]:
    """Every open connection starts the recording over; ``speed``/``maxSpeed``/``loop``
    also set the pace for them and for later connections."""
    fake = fakews_of(request)
    pace = body.max_speed or body.speed is not None
    speed = None if body.max_speed else body.speed
    restarted = fake.restart(pace=pace, speed=speed, loop=body.loop)
    return {"restarted": restarted, "speed": fake.speed, "loop": fake.loop}


@router.post("/frames")
async def inject(body: Frames, request: Request) -> dict[str, Any]:
    """Send these frames to every open connection now, after what is queued."""
    texts = [f if isinstance(f, str) else orjson.dumps(f).decode() for f in body.frames]
    return {"sessions": fakews_of(request).inject(texts), "frames": len(texts)}


@router.post("/reset")
async def reset(request: Request) -> dict[str, bool]:
    fakews_of(request).reset()
    return {"reset": True}
