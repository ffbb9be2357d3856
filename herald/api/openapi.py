"""The OpenAPI document, made to tell the truth about the answers herald actually sends.

FastAPI documents a 422 for every route with parameters; herald never sends one (its
validation errors are 400). Each route lists its own 400/404/409 with :func:`errors`;
:func:`finish` adds what every guarded route may answer (401, 403, 429 for writes), the
bearer security scheme, and removes the 422s. Every error body is ``{error, detail}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = "ErrorBody"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
_DESCRIPTIONS = {
    400: "Bad input: the field and the rule it broke; nothing was stored",
    401: "Missing, invalid or expired token (only when auth is configured)",
    403: "The token's claims do not cover this stream or route",
    404: "No such stream, account, pipeline, alert rule or silence",
    409: "Conflict: the stream or the rule id already exists, or a poll is already running",
    413: "Body over the size limit",
    429: "Too many writes from this client; see Retry-After",
    503: "Not available in this process",
}
_WRITES = {"post", "patch", "put", "delete"}
_GUARDED = ("/api/", "/metrics")
Bounds = dict[tuple[str, str], dict[str, Any]]
"""(path, query parameter) -> schema keywords, for routes whose code checks bounds itself."""


def _error(status: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": ERROR_REF}},
    }


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: these error statuses, each with the error body."""
    return {status: _error(status) for status in statuses}


# A started stream's id feeds every per-stream operation (schemathesis follows these links).
_STREAM_ID = "$response.body#/id"
_STREAM_LINKS = {
    "GetStream": ("GET", "/api/streams/{stream_id}"),
    "UpdateStream": ("PATCH", "/api/streams/{stream_id}"),
    "PauseStream": ("POST", "/api/streams/{stream_id}/pause"),
    "ResumeStream": ("POST", "/api/streams/{stream_id}/resume"),
    "PollStream": ("POST", "/api/streams/{stream_id}/poll"),
    "StreamHistory": ("GET", "/api/streams/{stream_id}/history"),
}


def _links(schema: dict[str, Any]) -> None:
    paths = schema.get("paths", {})
    start = paths.get("/api/streams/start", {}).get("post")
    if start is None:
        return
    links: dict[str, Any] = {}
    for name, (method, path) in _STREAM_LINKS.items():
        target = paths.get(path, {}).get(method.lower())
        if target is not None and target.get("operationId"):
            links[name] = {
                "operationId": target["operationId"],
                "parameters": {"stream_id": _STREAM_ID},
            }
    stop = paths.get("/api/streams/stop", {}).get("post")
    if stop is not None and stop.get("operationId"):
        links["StopStream"] = {
            "operationId": stop["operationId"],
            "requestBody": {"streamId": _STREAM_ID},
        }
    start["responses"].setdefault("201", {"description": "Started"})["links"] = links
    add = paths.get("/api/accounts", {}).get("post")
    remove = paths.get("/api/accounts/{account_id}", {}).get("delete")
    if add is not None and remove is not None and remove.get("operationId"):
        add["responses"].setdefault("201", {"description": "Added"})["links"] = {
            "RemoveAccount": {
                "operationId": remove["operationId"],
                "parameters": {"account_id": "$response.body#/id"},
            }
        }


def finish(
    schema: dict[str, Any],
    *,
    auth: bool,
    bounds: Bounds | None = None,
    event_streams: tuple[str, ...] = (),
    extra_schemas: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Drop 422s, add the shared error answers, the security scheme and ``extra_schemas``
    (the event payloads the catalog declares) (in place)."""
    components = schema.setdefault("components", {})
    component_schemas = components.setdefault("schemas", {})
    component_schemas.update(extra_schemas or {})
    for name in ("HTTPValidationError", "ValidationError"):
        component_schemas.pop(name, None)
    component_schemas[ERROR_SCHEMA] = {
        "type": "object",
        "required": ["error", "detail"],
        "properties": {
            "error": {"type": "string", "description": "a short machine code"},
            "detail": {"type": "string", "description": "what went wrong and why"},
        },
    }
    if auth:
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            if not isinstance(operation, dict):
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            responses.pop("422", None)
            if path in event_streams and method == "get":
                ok = responses.setdefault("200", {"description": "Server-sent events"})
                ok["content"] = {"text/event-stream": {"schema": {"type": "string"}}}
                responses.setdefault("400", _error(400))
            if path.startswith(_GUARDED):
                if auth:
                    responses.setdefault("401", _error(401))
                    responses.setdefault("403", _error(403))
                    operation["security"] = [{"bearer": []}]
                if method in _WRITES:
                    responses.setdefault("429", _error(429))
            for parameter in operation.get("parameters", []):
                extra = (bounds or {}).get((path, parameter.get("name", "")))
                if extra:
                    parameter.setdefault("schema", {}).update(extra)
    _links(schema)
    return schema


def install(
    app: FastAPI,
    *,
    auth: bool,
    bounds: Bounds | None = None,
    event_streams: tuple[str, ...] = (),
    extra_schemas: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Serve the finished document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = finish(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                ),
                auth=auth,
                bounds=bounds,
                event_streams=event_streams,
                extra_schemas=extra_schemas,
            )
        return app.openapi_schema

    setter: Callable[[], dict[str, Any]] = openapi
    app.openapi = setter  # type: ignore[method-assign]
