"""Every error answer has the same body: ``{"error": <code>, "detail": <what and why>}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HeraldError)
    async def herald_error(_: Request, exc: HeraldError) -> JSON:
        extra: dict[str, Any] = {}
        if isinstance(exc, StreamExists):
            extra["streamId"] = exc.stream_id
        extra.update(getattr(exc, "fields", {}))
        if exc.status >= 500:
            log.error("request failed: %s", exc.detail)
        return error_response(exc.status, exc.code, exc.detail, **extra)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSON:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        detail = f"{_location(tuple(first.get('loc', ())))}: {first.get('msg', 'invalid')}"
        return error_response(400, "validation_error", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSON:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        response = error_response(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})  # Allow on a 405, for one
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
