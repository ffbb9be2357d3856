"""Every error answer has the same body: ``{"error": <code>, "detail": <what and why>}``."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from herald.api.responses import JSON
from herald.errors import HeraldError, StreamExists

log = logging.getLogger("herald.api")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(status: int, error: str, detail: str, **extra: Any) -> JSON:
    return JSON({"error": error, "detail": detail, **extra}, status_code=status)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "request"


def allowed_methods(request: Request) -> set[str]:
    """The methods documented for this request's path: those of the routes that match it
    literally (``/api/streams/stop``) if any, else of those matching a template."""
    literal: set[str] = set()
    templated: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(request.url.path):
            found = literal if "{" not in str(route.path) else templated
            found |= set(route.methods or ())
    return literal or templated


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HeraldError)
    async def herald_error(_: Request, exc: HeraldError) -> JSON:
        extra: dict[str, Any] = {}
        if isinstance(exc, StreamExists):
            extra["streamId"] = exc.stream_id
        extra.update(getattr(exc, "fields", {}))
        retry_after = getattr(exc, "retry_after", None)
        if exc.status == 429 and isinstance(retry_after, int | float):
            extra["retryAfter"] = round(float(retry_after), 3)
        if exc.status >= 500:
            log.error("request failed: %s", exc.detail)
        response = error_response(exc.status, exc.code, exc.detail, **extra)
        if "retryAfter" in extra:
            response.headers["Retry-After"] = str(max(math.ceil(extra["retryAfter"]), 1))
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSON:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        detail = f"{_location(tuple(first.get('loc', ())))}: {first.get('msg', 'invalid')}"
        return error_response(400, "validation_error", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSON:
        status, detail = exc.status_code, str(exc.detail)
        headers = dict(exc.headers or {})
        if status in (404, 405) and request.url.path.startswith(("/api/", "/metrics")):
            # The dashboard's mount at / answers for any path a route does not fully
            # match; an API path that exists under other methods is a 405 with Allow.
            allowed = allowed_methods(request)
            if allowed and request.method not in allowed:
                status, detail = 405, f"{request.method} is not allowed here"
                headers["Allow"] = ", ".join(sorted(allowed))
        response = error_response(status, _HTTP_CODES.get(status, "http_error"), detail)
        response.headers.update(headers)
        return response

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSON:
        """A bug still answers JSON, and says nothing of herald's insides (the log has them)."""
        log.error(
            "unexpected %s on %s %s",
            type(exc).__name__,
            request.method,
            request.url.path,
            exc_info=exc,
        )
        return error_response(
            500, "internal", "herald failed to handle this request; the server log says why"
        )
