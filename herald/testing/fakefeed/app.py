"""The stand-in's ASGI app: every recorded feed at ``/feeds/<name>``, with real ETag,
Last-Modified and 304 behaviour, and the control API under ``/_fakefeed``."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

from herald.testing.fakefeed.control import router as control_router
from herald.testing.fakefeed.faults import GARBAGE, HTML, Fault, oversized
from herald.testing.fakefeed.feeds import FeedDoc
from herald.testing.fakefeed.service import FakeFeed, fakefeed_of


def create_app(fixtures_dir: Path | None = None) -> FastAPI:
    """The stand-in; ``fixtures_dir`` holds the feeds to serve (``.rss``/``.atom`` files, or
    a folder with ``rss/`` in it). Without it, only feeds created through the API exist."""
    app = FastAPI(title="fakefeed", docs_url=None, redoc_url=None)
    app.state.fakefeed = FakeFeed(fixtures_dir)
    app.include_router(control_router)

    @app.get("/feeds/{name}")
    async def feed(name: str, request: Request) -> Response:
        fake = fakefeed_of(request)
        doc = fake.feeds.get(name)
        if doc is None:
            raise HTTPException(404, f"no feed {name!r}")
        counts = fake.requests[name]
        counts["total"] += 1
        fault = fake.faults.take(name)
        if fault is not None:
            counts["faults"] += 1
            return _fault(fault, doc)
        headers = _validators(doc)
        headers.update(doc.headers)
        if _not_modified(doc, request):
            counts["notModified"] += 1
            return Response(status_code=304, headers=headers)
        counts["ok"] += 1
        return Response(doc.body(), media_type=doc.content_type, headers=headers)

    @app.get("/_fakefeed/moved/{name}")
    async def moved(name: str) -> Response:
        """A permanent redirect to the feed: a feed that changed its address."""
        return Response(status_code=301, headers={"Location": f"/feeds/{name}"})

    @app.get("/_fakefeed/loop/{name}")
    async def loop(name: str) -> Response:
        """Redirects to itself, forever: a redirect loop."""
        return Response(status_code=302, headers={"Location": f"/_fakefeed/loop/{name}"})

    return app


def _validators(doc: FeedDoc) -> dict[str, str]:
    headers: dict[str, str] = {}
    if doc.etag_on:
        headers["ETag"] = doc.etag
    if doc.last_modified_on:
        headers["Last-Modified"] = doc.last_modified_http
    return headers


def _not_modified(doc: FeedDoc, request: Request) -> bool:
    """RFC 9110: If-None-Match decides when sent; If-Modified-Since only without it."""
    none_match = request.headers.get("if-none-match")
    if none_match is not None:
        tags = {t.strip() for t in none_match.split(",")}
        return doc.etag_on and (doc.etag in tags or "*" in tags)
    since = request.headers.get("if-modified-since")
    if since is None or not doc.last_modified_on:
        return False
    try:
        return doc.last_modified <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError, IndexError):
        return False


def _fault(fault: Fault, doc: FeedDoc) -> Response:
    xml = doc.content_type
    wait = fault.retry_after
    if fault.mode == "not_modified":
        return Response(status_code=304, headers=_validators(doc))
    if fault.mode == "rate_limited":
        return Response(b"slow down\n", status_code=429, headers={"Retry-After": str(wait or 60)})
    if fault.mode in ("server_error", "status"):
        status = fault.status or 500
        headers = {} if wait is None else {"Retry-After": str(wait)}
        return Response(f"error {status}\n".encode(), status_code=status, headers=headers)
    if fault.mode == "html":
        return Response(HTML, media_type="text/html; charset=utf-8")
    if fault.mode == "oversized":
        return StreamingResponse(oversized(fault.bytes), media_type=xml)
    if fault.mode == "garbage":
        return Response(GARBAGE, media_type=xml)
    if fault.mode == "redirect_loop":
        return Response(status_code=302, headers={"Location": f"/_fakefeed/loop/{doc.name}"})
    return Response(b"", media_type=xml)  # empty
