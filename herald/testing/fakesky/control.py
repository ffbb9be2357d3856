"""The control API under ``/_fakesky``: accounts, posts, follows, mentions, identity
changes, raw frames, faults, request counts. Every change goes out as Jetstream frames to
the connected subscribers and joins the window a cursor replays from."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from herald.testing.fakesky.records import POST
from herald.testing.fakesky.service import FakeSky, Refusal, fakesky_of
from herald.testing.fakesky.world import Account

router = APIRouter(prefix="/_fakesky")
FaultMode = Literal["drop", "stall", "garbage", "old_cursor", "refuse", "xrpc_status"]
XRPC_METHODS = ("resolveHandle", "getProfile", "getProfiles", "*")


class NewUser(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    handle: str = Field(min_length=3, max_length=253)
    did: str | None = Field(default=None, max_length=300)
    display_name: str | None = Field(default=None, alias="displayName", max_length=640)
    followers: int = Field(default=0, ge=0, le=10_000_000)


class NewPost(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    text: str = Field(min_length=1, max_length=3000)
    langs: list[str] = Field(default_factory=lambda: ["en"], max_length=3)
    mentions: list[str] = Field(default_factory=list, max_length=50)
    tags: list[str] = Field(default_factory=list, max_length=8)
    reply_to: str | None = Field(default=None, alias="replyTo")


class NewMention(BaseModel):
    by: str
    text: str = Field(default="hello", min_length=1, max_length=3000)


class NewFollower(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    follower: str = Field(validation_alias="username")


class HandleChange(BaseModel):
    handle: str


class ActiveChange(BaseModel):
    active: bool


class Burst(BaseModel):
    count: int = Field(ge=1, le=100_000)
    text: str = Field(default="post", min_length=1, max_length=300)


class RawFrame(BaseModel):
    frame: dict[str, Any]


class Replay(BaseModel):
    times: int = Field(default=1, ge=1, le=10_000)


class NewFault(BaseModel):
    mode: FaultMode
    count: int = Field(default=1, ge=1)
    seconds: float = Field(default=30.0, gt=0, le=3600)
    status: int = Field(default=503, ge=400, le=599)
    method: str | None = None
    keep: int = Field(default=0, ge=0)
    text: str = Field(default="not json {", max_length=1 << 20)

    @model_validator(mode="after")
    def method_known(self) -> NewFault:
        if self.mode == "xrpc_status" and (self.method or "*") not in XRPC_METHODS:
            raise ValueError(f"method must be one of {', '.join(XRPC_METHODS)}")
        return self


def _account(fake: FakeSky, actor: str) -> Account:
    found = fake.world.find(actor)
    if found is None:
        raise HTTPException(404, f"no account {actor!r}")
    return found


def _sent(frame: dict[str, Any]) -> dict[str, Any]:
    commit = frame.get("commit") or {}
    out: dict[str, Any] = {"did": frame["did"], "time_us": frame["time_us"], "frame": frame}
    if commit:
        out["rkey"] = commit["rkey"]
        out["uri"] = f"at://{frame['did']}/{commit['collection']}/{commit['rkey']}"
        if "cid" in commit:
            out["cid"] = commit["cid"]
    return out


@router.get("/users")
async def list_users(request: Request) -> dict[str, Any]:
    return {"users": [a.profile() for a in fakesky_of(request).world.by_did.values()]}


@router.post("/users")
async def create_user(body: NewUser, request: Request) -> JSONResponse:
    """A new account; an existing handle is returned as it is."""
    fake = fakesky_of(request)
    existing = fake.world.find(body.handle)
    if existing is not None:
        return JSONResponse(existing.profile())
    try:
        account = fake.world.create(
            body.handle, did=body.did, display_name=body.display_name, followers=body.followers
        )
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return JSONResponse(account.profile(), status_code=201)


@router.get("/users/{actor}")
async def get_user(actor: str, request: Request) -> dict[str, Any]:
    return _account(fakesky_of(request), actor).profile()


@router.post("/users/{actor}/posts", status_code=201)
async def post(actor: str, body: NewPost, request: Request) -> dict[str, Any]:
    """A post; ``mentions`` (handles or DIDs) get their ``@handle`` and a mention facet,
    ``tags`` their ``#tag`` and a tag facet."""
    fake = fakesky_of(request)
    author = _account(fake, actor)
    mentioned = [_account(fake, m) for m in body.mentions]
    frame = fake.post(
        author,
        body.text,
        langs=body.langs,
        mentions=mentioned,
        tags=body.tags,
        reply_to=body.reply_to,
    )
    return _sent(frame)


@router.delete("/users/{actor}/posts/{rkey}")
async def delete_post(actor: str, rkey: str, request: Request) -> dict[str, Any]:
    fake = fakesky_of(request)
    try:
        return _sent(fake.delete_post(_account(fake, actor), rkey))
    except KeyError:
        raise HTTPException(404, f"no post {rkey!r} by {actor!r}") from None


@router.post("/users/{actor}/mentions", status_code=201)
async def mention(actor: str, body: NewMention, request: Request) -> dict[str, Any]:
    """A post by ``by`` that mentions ``actor``."""
    fake = fakesky_of(request)
    target = _account(fake, actor)
    return _sent(fake.post(_account(fake, body.by), body.text, mentions=[target]))


@router.post("/users/{actor}/followers", status_code=201)
async def follow(actor: str, body: NewFollower, request: Request) -> dict[str, Any]:
    """``follower`` (or ``username``, as fakex takes it) follows ``actor``."""
    fake = fakesky_of(request)
    try:
        frame = fake.follow(_account(fake, body.follower), _account(fake, actor))
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    return _sent(frame)


@router.delete("/users/{actor}/followers/{follower}")
async def unfollow(actor: str, follower: str, request: Request) -> dict[str, Any]:
    fake = fakesky_of(request)
    try:
        frame = fake.unfollow(_account(fake, follower), _account(fake, actor))
    except KeyError:
        raise HTTPException(404, f"{follower!r} does not follow {actor!r}") from None
    return _sent(frame)


@router.put("/users/{actor}/handle")
async def change_handle(actor: str, body: HandleChange, request: Request) -> dict[str, Any]:
    """A new handle: resolution follows at once and an ``identity`` frame goes out."""
    fake = fakesky_of(request)
    try:
        return _sent(fake.set_handle(_account(fake, actor), body.handle))
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


@router.put("/users/{actor}/active")
async def change_active(actor: str, body: ActiveChange, request: Request) -> dict[str, Any]:
    fake = fakesky_of(request)
    return _sent(fake.set_active(_account(fake, actor), body.active))


@router.post("/users/{actor}/burst", status_code=201)
async def burst(actor: str, body: Burst, request: Request) -> dict[str, Any]:
    """``count`` posts by ``actor`` as fast as the stand-in makes them (load, chaos)."""
    fake = fakesky_of(request)
    author = _account(fake, actor)
    frames = [fake.post(author, f"{body.text} {i + 1}") for i in range(body.count)]
    return {
        "count": len(frames),
        "first": frames[0]["time_us"],
        "last": frames[-1]["time_us"],
        "uris": [f"at://{author.did}/{POST}/{f['commit']['rkey']}" for f in frames],
    }


@router.post("/frames", status_code=201)
async def inject(body: RawFrame, request: Request) -> dict[str, Any]:
    """A frame as given (``time_us`` assigned when absent; it must be the newest)."""
    try:
        return _sent(fakesky_of(request).inject(body.frame))
    except (ValueError, KeyError, TypeError) as exc:
        raise HTTPException(409, f"frame refused: {exc}") from None


@router.get("/frames")
async def frames(request: Request, since: int = 0) -> dict[str, Any]:
    """The kept window from ``since`` (``time_us``), oldest first."""
    kept = fakesky_of(request).window.frames(since)
    return {"frames": [orjson.loads(e.text) for e in kept]}


@router.post("/replay", status_code=201)
async def replay(body: Replay, request: Request) -> dict[str, Any]:
    """The recorded frames again, ``times`` rounds, with fresh ``time_us``."""
    fake = fakesky_of(request)
    if not fake.recorded:
        raise HTTPException(409, "no recording loaded (start with --fixtures)")
    first, last = fake.replay_recording(body.times)
    return {"count": len(fake.recorded) * body.times, "first": first, "last": last}


@router.post("/faults", status_code=201)
async def add_fault(body: NewFault, request: Request) -> dict[str, Any]:
    """``drop``: close every connection now; ``stall``: send nothing for ``seconds``;
    ``garbage``: send ``text`` ``count`` times to every connection; ``old_cursor``: forget
    all but the newest ``keep`` frames, so a resume from before them starts later;
    ``refuse``: answer the next ``count`` handshakes with ``status``; ``xrpc_status``: the
    next ``count`` calls of ``method`` (or any) answered with ``status``."""
    fake = fakesky_of(request)
    affected: int
    if body.mode == "drop":
        affected = fake.drop_all()
    elif body.mode == "stall":
        fake.stall(body.seconds)
        affected = len(fake.subscribers)
    elif body.mode == "garbage":
        affected = fake.send_garbage(body.text, body.count)
    elif body.mode == "old_cursor":
        affected = fake.window.forget(body.keep)
    else:
        method = None if body.mode == "refuse" else (body.method or "*")
        fake.refusals.append(Refusal(body.status, body.count, method))
        affected = body.count
    return {"mode": body.mode, "affected": affected}


@router.get("/requests")
async def requests_seen(request: Request) -> dict[str, Any]:
    return fakesky_of(request).counts()


@router.post("/reset")
async def reset(request: Request) -> dict[str, bool]:
    fakesky_of(request).reset()
    return {"reset": True}
