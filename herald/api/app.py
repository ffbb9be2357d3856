"""The ASGI application: REST, real-time transports, metrics and the dashboard on one port.

:func:`create_app` is the one way to get it: ``herald serve`` and the tests run what it
returns under uvicorn with ``lifespan="on"``, and the lifespan starts and stops everything
(see :mod:`herald.api.lifespan`). The routes are built around the started
:class:`~herald.service.Herald` (:func:`build_routes`), so each can rely on Redis and the
engine being there.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from herald import __version__
from herald.api import (
    alerts,
    archive,
    browser,
    catalog,
    commands,
    events,
    openapi,
    pipelines,
    presence,
    schemas,
    streams,
    system,
    webhooks,
)
from herald.api.access import attach, require_caller
from herald.api.errors import error_response, install_error_handlers
from herald.api.lifespan import HeraldApp
from herald.auth import Authenticator, token_from_headers_and_query
from herald.config import Settings
from herald.errors import AuthError
from herald.mcp import McpMount, mount_mcp
from herald.ratelimit import TokenBucket
from herald.service import Herald

DASHBOARD_DIR = Path(__file__).resolve().parents[1] / "dashboard"
OPEN_PATHS = ("/docs", "/openapi.json", "/redoc")
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
# GET /api/events/log checks its own bounds; the document says what they are.
_EVENT_LOG_BOUNDS: openapi.Bounds = {
    ("/api/events/log", "limit"): {"minimum": 1, "maximum": events.MAX_LIMIT},
    ("/api/events/log", "wait"): {"minimum": 0, "maximum": events.MAX_WAIT},
    ("/api/events/log", "since"): {"pattern": r"^(\$|\d{1,20}(-\d{1,20})?)?$"},
}
# Server-sent events (herald.delivery): their 200 is a text/event-stream.
_EVENT_STREAMS = ("/api/events", "/api/streams/{stream_id}/events")


class _Guard(BaseHTTPMiddleware):
    """Authenticates REST calls when keys are configured, and rate-limits writes per client."""

    def __init__(self, app: ASGIApp, auth: Authenticator, writes: TokenBucket) -> None:
        super().__init__(app)
        self._auth = auth
        self._writes = writes

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        guarded = path.startswith("/api/") or path == "/metrics"
        if not guarded or path.startswith(OPEN_PATHS):
            return await call_next(request)
        client = request.client.host if request.client else "unknown"
        if self._auth.enabled:
            token = token_from_headers_and_query(request.headers, request.query_params)
            try:
                principal = self._auth.authenticate(token)
            except AuthError as exc:
                return error_response(401, exc.code, exc.detail)
            client = principal.subject
            attach(request, principal)
        if request.method in WRITE_METHODS and not self._writes.allow(client):
            wait = self._writes.retry_after(client)
            response = error_response(
                429, "rate_limited", f"too many write requests; retry in {wait:.1f}s"
            )
            response.headers["Retry-After"] = str(max(int(wait + 0.999), 1))
            return response
        return await call_next(request)


def create_app(
    target: Settings | Herald | None = None,
    *,
    write_rate: float = 20.0,
    write_burst: float = 100.0,
) -> HeraldApp:
    """The app for ``target``: settings (a Herald with a worker and delivery is made from
    them), a Herald (started or not), or nothing (settings from the environment).

    Its lifespan starts what is not started yet and stops what it started."""
    herald = target if isinstance(target, Herald) else Herald(target)

    def build(started: Herald) -> tuple[ASGIApp, McpMount]:
        return build_routes(started, write_rate=write_rate, write_burst=write_burst)

    return HeraldApp(herald, build)


def build_routes(
    herald: Herald, *, write_rate: float = 20.0, write_burst: float = 100.0
) -> tuple[ASGIApp, McpMount]:
    """REST, ``/ws``, SSE, Socket.IO, ``/mcp`` and the dashboard around a started Herald;
    also the ``/mcp`` endpoint, for the lifespan to start and end."""
    app = FastAPI(
        title="herald",
        version=__version__,
        description="Real-time social monitoring: streams, events, delivery.",
        docs_url="/docs",
    )
    app.state.herald = herald
    install_error_handlers(app)
    auth = Authenticator.from_settings(herald.settings)
    app.state.authenticator = auth
    openapi.install(
        app,
        auth=auth.enabled,
        bounds=_EVENT_LOG_BOUNDS,
        event_streams=_EVENT_STREAMS,
        extra_schemas=schemas.payload_components(),
    )
    app.add_middleware(_Guard, auth=auth, writes=TokenBucket(write_rate, write_burst))
    # Every /api route declares its access level (herald.api.access; docs/auth.md).
    app.include_router(streams.build_router(herald))
    app.include_router(catalog.build_router(herald))
    app.include_router(system.build_router(herald))
    app.include_router(pipelines.build_router(herald))
    app.include_router(presence.build_router(herald))
    app.include_router(alerts.build_router(herald))
    app.include_router(commands.build_router(herald))
    app.include_router(webhooks.build_router(herald))
    app.include_router(browser.build_router(herald))
    app.include_router(archive.build_router(herald))
    # Pull-based event log (GET /api/events/log) and MCP over Streamable HTTP at /mcp.
    # The log filters by the token's claim itself; any authenticated caller may read it.
    app.include_router(
        events.build_router(herald),
        dependencies=[Depends(require_caller)],
        responses=openapi.errors(400),
    )
    mcp = mount_mcp(app, herald)  # started and ended by the lifespan
    asgi: ASGIApp = app
    if herald.delivery is not None:
        herald.delivery.install(app)
        herald.delivery.ctx.commands = commands.commands_of(herald)  # /ws and Socket.IO
        asgi = herald.delivery.wrap(app)
    if (DASHBOARD_DIR / "index.html").is_file():
        app.mount("/", StaticFiles(directory=DASHBOARD_DIR, html=True), name="dashboard")
    return asgi, mcp
