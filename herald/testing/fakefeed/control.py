"""The control API under ``/_fakefeed``: add entries, churn ids, move ETags, queue faults,
read request counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from herald.testing.fakefeed.faults import Fault, FaultMode
from herald.testing.fakefeed.feeds import Added, FeedDoc
from herald.testing.fakefeed.service import FakeFeed, fakefeed_of

router = APIRouter(prefix="/_fakefeed")
NAME = r"^[A-Za-z0-9_.-]{1,100}$"


class NewFeed(BaseModel):
    name: str = Field(pattern=NAME)
    format: Literal["rss", "atom"] = "rss"


class NewEntry(BaseModel):
    title: str | None = Field(default=None, max_length=1000)
    link: str | None = Field(default=None, max_length=4000)
    id: str | None = Field(default=None, max_length=4000)
    published: datetime | None = None
    summary: str = Field(default="", max_length=100_000)
    author: str = Field(default="", max_length=200)


class FeedSettings(BaseModel):
    limit: int | None = Field(default=None, ge=0)
    headers: dict[str, str] | None = None
    etag: bool | None = None
    last_modified: bool | None = Field(default=None, alias="lastModified")


class NewFault(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    mode: FaultMode
    count: int = Field(default=1, ge=1)
    feed: str | None = None
    status: int | None = Field(default=None, ge=400, le=599)
    retry_after: int | None = Field(default=None, ge=0, alias="retryAfter")
    bytes: int = Field(default=32 * 1024 * 1024, ge=1)

    @model_validator(mode="after")
    def status_needed(self) -> NewFault:
        if self.mode == "status" and self.status is None:
            raise ValueError("mode 'status' needs a status")
        return self


def _doc(fake: FakeFeed, name: str) -> FeedDoc:
    doc = fake.feeds.get(name)
    if doc is None:
        raise HTTPException(404, f"no feed {name!r}")
    return doc


def _summary(doc: FeedDoc) -> dict[str, Any]:
    return {
        "name": doc.name,
        "format": doc.format,
        "entries": len(doc.entries()),
        "added": len(doc.added),
        "etag": doc.etag if doc.etag_on else None,
        "lastModified": doc.last_modified_http if doc.last_modified_on else None,
        "limit": doc.limit,
    }


@router.get("/feeds")
async def list_feeds(request: Request) -> dict[str, Any]:
    return {"feeds": [_summary(d) for d in fakefeed_of(request).feeds.values()]}


@router.post("/feeds", status_code=201)
async def create_feed(body: NewFeed, request: Request) -> dict[str, Any]:
    """A new feed with no entries (synthetic; the recordings are not touched)."""
    fake = fakefeed_of(request)
    if body.name in fake.feeds:
        raise HTTPException(409, f"feed {body.name!r} exists")
    link = f"{str(request.base_url).rstrip('/')}/feeds/{body.name}"
    fake.feeds[body.name] = doc = FeedDoc.empty(body.name, body.format, link)
    return _summary(doc)


@router.post("/feeds/{name}/entries", status_code=201)
async def add_entry(name: str, body: NewEntry, request: Request) -> dict[str, Any]:
    """Add an entry in front, in the feed's own format; published defaults to now (and
    always moves forward, so each added entry is the newest)."""
    fake = fakefeed_of(request)
    doc = _doc(fake, name)
    serial = fake.next_serial()
    published = body.published or datetime.now(UTC).replace(microsecond=0)
    if body.published is None and doc.added and published <= doc.added[0].published:
        published = doc.added[0].published + timedelta(seconds=1)
    base = str(request.base_url).rstrip("/")
    entry = Added(
        id=body.id or f"urn:fakefeed:{name}:{serial}",
        title=body.title or f"Entry {serial} of {name}",
        link=body.link or f"{base}/articles/{name}/{serial}",
        published=published if published.tzinfo else published.replace(tzinfo=UTC),
        summary=body.summary,
        author=body.author,
    )
    doc.add(entry)
    return {**entry.payload(), "etag": doc.etag}


@router.post("/feeds/{name}/churn")
async def churn(name: str, request: Request) -> dict[str, Any]:
    """Every entry gets a new id (guid); links stay: what guid churn looks like."""
    doc = _doc(fakefeed_of(request), name)
    return {"entries": doc.rechurn(), "etag": doc.etag}


@router.post("/feeds/{name}/etag")
async def new_etag(name: str, request: Request) -> dict[str, Any]:
    """A new ETag (and Last-Modified) for the same content."""
    doc = _doc(fakefeed_of(request), name)
    doc.changed()
    return {"etag": doc.etag, "lastModified": doc.last_modified_http}


@router.put("/feeds/{name}/settings")
async def feed_settings(name: str, body: FeedSettings, request: Request) -> dict[str, Any]:
    """``limit`` (newest entries shown), extra ``headers`` (Cache-Control, Retry-After...),
    and whether ``etag``/``lastModified`` validators are sent."""
    doc = _doc(fakefeed_of(request), name)
    fields = body.model_fields_set
    if "limit" in fields:
        doc.limit = body.limit
    if body.headers is not None:
        doc.headers = dict(body.headers)
    if body.etag is not None:
        doc.etag_on = body.etag
    if body.last_modified is not None:
        doc.last_modified_on = body.last_modified
    doc.changed()
    return _summary(doc)


@router.post("/faults", status_code=201)
async def add_fault(body: NewFault, request: Request) -> dict[str, Any]:
    fake = fakefeed_of(request)
    if body.feed is not None:
        _doc(fake, body.feed)
    fake.faults.add(Fault(**body.model_dump(by_alias=False)))
    return {"pending": fake.faults.pending()}


@router.get("/faults")
async def list_faults(request: Request) -> dict[str, Any]:
    return {"pending": fakefeed_of(request).faults.pending()}


@router.get("/requests")
async def requests_seen(request: Request) -> dict[str, object]:
    return fakefeed_of(request).counts()


@router.post("/reset")
async def reset(request: Request) -> dict[str, bool]:
    fakefeed_of(request).reset()
    return {"reset": True}
