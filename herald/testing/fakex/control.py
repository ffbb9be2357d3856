"""The control API under ``/_fakex``: change the world, queue faults, read request counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from herald.testing.fakex.faults import Fault, FaultMode
from herald.testing.fakex.service import FakeX, fakex_of
from herald.testing.fakex.state import FakeTweet, FakeUser

router = APIRouter(prefix="/_fakex")
USERNAME = r"^[A-Za-z0-9_]{1,50}$"


class NewUser(BaseModel):
    username: str = Field(pattern=USERNAME)
    name: str | None = None
    followers: int = Field(default=0, ge=0, le=1_000_000)


class NewTweet(BaseModel):
    text: str = Field(min_length=1, max_length=25_000)
    pinned: bool = False


class NewFollower(BaseModel):
    username: str = Field(pattern=USERNAME)


class Metrics(BaseModel):
    """Counts to set on a tweet; those left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    likes: int | None = Field(default=None, ge=0)
    retweets: int | None = Field(default=None, ge=0)
    replies: int | None = Field(default=None, ge=0)
    quotes: int | None = Field(default=None, ge=0)
    bookmarks: int | None = Field(default=None, ge=0)
    views: int | None = Field(default=None, ge=0)


class NewSession(BaseModel):
    """Which user a session cookie's ``auth_token`` writes as (mutations, settings.json)."""

    model_config = ConfigDict(populate_by_name=True)

    auth_token: str = Field(min_length=1, max_length=500, alias="authToken")
    username: str = Field(pattern=USERNAME)


class NewFault(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    status: int | None = Field(default=None, ge=400, le=599)
    mode: FaultMode | None = None
    count: int = Field(default=1, ge=1)
    operation: str | None = None
    reset_in: int = Field(default=60, ge=0, alias="resetIn")
    seconds: float = Field(default=60.0, gt=0)
    keep: int = Field(default=1, ge=0, le=1000)

    @model_validator(mode="after")
    def status_or_mode(self) -> NewFault:
        if self.status is None and self.mode is None:
            raise ValueError("give a status or a mode")
        return self


def _user(fake: FakeX, username: str) -> FakeUser:
    user = fake.world.find(username)
    if user is None:
        raise HTTPException(404, f"no user {username!r}")
    return user


@router.post("/users")
async def create_user(body: NewUser, request: Request) -> JSONResponse:
    """Create a user with ``followers`` synthetic followers; an existing user is returned."""
    fake = fakex_of(request)
    existing = fake.world.find(body.username)
    if existing is not None:
        return JSONResponse(fake.user_payload(existing))
    user = fake.world.create_user(body.username, body.name)
    for i in range(body.followers):
        fake.world.follow(user, fake.world.ensure_user(f"{body.username}_fan{i + 1}"))
    return JSONResponse(fake.user_payload(user), status_code=201)


@router.get("/users/{username}")
async def get_user(username: str, request: Request) -> dict[str, Any]:
    fake = fakex_of(request)
    return fake.user_payload(_user(fake, username))


@router.post("/users/{username}/tweets", status_code=201)
async def post_tweet(username: str, body: NewTweet, request: Request) -> dict[str, Any]:
    fake = fakex_of(request)
    user = _user(fake, username)
    tweet = fake.world.post(user, body.text)
    if body.pinned:
        user.pinned_id = tweet.id
    return {
        "id": tweet.id,
        "createdAt": tweet.created_at.isoformat(timespec="milliseconds")[:-6] + "Z",
    }


def _tweet(fake: FakeX, tweet_id: str) -> FakeTweet:
    tweet = fake.world.find_tweet(tweet_id)
    if tweet is None:
        raise HTTPException(404, f"no tweet {tweet_id!r} (recorded tweets cannot be changed)")
    return tweet


@router.post("/tweets/{tweet_id}/metrics")
async def set_metrics(tweet_id: str, body: Metrics, request: Request) -> dict[str, Any]:
    """Set a tweet's likes, retweets, replies, quotes, bookmarks or views."""
    fake = fakex_of(request)
    tweet = _tweet(fake, tweet_id)
    counts = fake.world.metrics.setdefault(tweet.id, {})
    counts.update(body.model_dump(exclude_none=True))
    return {"id": tweet.id, "metrics": dict(counts)}


@router.post("/tweets/{tweet_id}/pin")
async def pin_tweet(tweet_id: str, request: Request) -> dict[str, Any]:
    """Pin a tweet on its author's profile (in place of the pinned one, if any)."""
    fake = fakex_of(request)
    tweet = _tweet(fake, tweet_id)
    fake.world.users[tweet.author_id].pinned_id = tweet.id
    return {"pinned": True, "id": tweet.id}


@router.delete("/tweets/{tweet_id}")
async def delete_tweet(tweet_id: str, request: Request) -> dict[str, Any]:
    """Delete a tweet: it leaves its author's timeline, the pin and every search."""
    fake = fakex_of(request)
    fake.world.delete(_tweet(fake, tweet_id))
    return {"deleted": True, "id": tweet_id}


@router.post("/users/{username}/followers", status_code=201)
async def add_follower(username: str, body: NewFollower, request: Request) -> dict[str, Any]:
    fake = fakex_of(request)
    user = _user(fake, username)
    follower = fake.world.ensure_user(body.username)
    added = fake.world.follow(user, follower)
    return {"added": added, "follower": fake.user_payload(follower), **_count(fake, user)}


@router.delete("/users/{username}/followers/{follower}")
async def remove_follower(username: str, follower: str, request: Request) -> dict[str, Any]:
    fake = fakex_of(request)
    user = _user(fake, username)
    other = fake.world.find(follower)
    if other is not None and fake.world.unfollow(user, other):
        return {"removed": True, **_count(fake, user)}
    recorded = fake.recordings.follower_ids if fake.recordings and user.recorded else {}
    recorded_id = recorded.get(follower.lower())
    if recorded_id is None or recorded_id in user.removed_recorded:
        raise HTTPException(404, f"{follower!r} does not follow {username!r}")
    user.removed_recorded.add(recorded_id)
    return {"removed": True, **_count(fake, user)}


def _count(fake: FakeX, user: FakeUser) -> dict[str, int]:
    return {"followers": fake.responder.counts(user).followers}


@router.post("/sessions", status_code=201)
async def add_session(body: NewSession, request: Request) -> dict[str, Any]:
    """Bind a session token to a user (created if new); unbound tokens write as
    ``fakex_session``. The token is never echoed back."""
    fake = fakex_of(request)
    user = fake.world.ensure_user(body.username)
    fake.world.sessions[body.auth_token] = user.id
    return {"username": user.username, "id": user.id}


@router.post("/faults", status_code=201)
async def add_fault(body: NewFault, request: Request) -> dict[str, Any]:
    fake = fakex_of(request)
    fake.faults.add(Fault(**body.model_dump(by_alias=False)))
    return {"pending": fake.faults.pending()}


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    """Drop every queued fault (a long ``signature_refused`` run, say)."""
    return {"cleared": fakex_of(request).faults.clear()}


@router.get("/faults")
async def list_faults(request: Request) -> dict[str, Any]:
    return {"pending": fakex_of(request).faults.pending()}


@router.get("/requests")
async def requests_seen(request: Request) -> dict[str, Any]:
    fake = fakex_of(request)
    counts = fake.requests
    body: dict[str, Any] = {"total": sum(counts.values()), "operations": dict(counts)}
    if fake.page_requests:  # those of them made by a served profile or search page
        body["fromPages"] = dict(fake.page_requests)
    return body


@router.post("/reset")
async def reset(request: Request) -> dict[str, bool]:
    fakex_of(request).reset()
    return {"reset": True}
