"""Webhook endpoints over REST: ``/api/webhooks``.

The routes are thin: bodies are read by hand (any Content-Type) and handed to the webhooks
service (:class:`herald.webhooks.service.WebhooksManager`), which validates an endpoint as
a whole and names the field it refuses. An endpoint receives events of every stream its
selector matches and makes herald send requests to a URL, so every route, reading
included, needs admin (docs/auth.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from herald.api.access import require_admin
from herald.api.body import only, read_json
from herald.api.openapi import errors
from herald.api.responses import JSON
from herald.service import Herald
from herald.webhooks.service import WebhooksManager, check_limit

_ENDPOINT = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "description": "http(s) URL of the receiver"},
        "secret": {
            "type": "string",
            "description": "whsec_ + base64; generated when left out, shown once",
        },
        "selector": {
            "type": "object",
            "description": "streamIds, types, platforms, sentiment, channels, filters",
        },
        "format": {"type": "string", "enum": ["standard", "slack", "discord"]},
        "enabled": {"type": "boolean"},
        "description": {"type": "string"},
        "id": {"type": "string"},
    },
}


#: ``{eventId}`` or ``{offset}``: one event of the log (a resend, a skip).
EVENT_REF = {
    "type": "object",
    "properties": {"eventId": {"type": "string"}, "offset": {"type": "string"}},
}


def _body(schema: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    shown = {**schema, "required": required} if required else schema
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": shown}}}}


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])
    admin = [Depends(require_admin)]
    limit = herald.settings.max_body_bytes

    def service() -> WebhooksManager:
        return herald.webhooks

    @router.get("", dependencies=admin)
    async def list_webhooks() -> JSON:
        """Every endpoint with its delivery status (never its secret)."""
        found = await service().list()
        return JSON({"webhooks": found, "count": len(found)})

    @router.post(
        "",
        status_code=201,
        dependencies=admin,
        openapi_extra=_body(_ENDPOINT, ["url"]),
        responses=errors(400, 409, 413),
    )
    async def create_webhook(request: Request) -> JSON:
        """Add an endpoint; it receives what the log appends from now on. The answer's
        ``secret`` is the only time herald shows it."""
        body = await read_json(request, limit=limit)
        return JSON(await service().create(body), status_code=201)

    @router.get("/{webhook_id}", dependencies=admin, responses=errors(404))
    async def get_webhook(webhook_id: str) -> JSON:
        return JSON(await service().get(webhook_id))

    @router.patch(
        "/{webhook_id}",
        dependencies=admin,
        openapi_extra=_body(_ENDPOINT),
        responses=errors(400, 404, 413),
    )
    async def update_webhook(webhook_id: str, request: Request) -> JSON:
        """Change some fields; ``{enabled: true}`` on a disabled endpoint starts a fresh
        retry schedule with the event it stopped at."""
        body = await read_json(request, limit=limit)
        return JSON(await service().update(webhook_id, body))

    @router.delete("/{webhook_id}", dependencies=admin, responses=errors(404))
    async def delete_webhook(webhook_id: str) -> JSON:
        await service().delete(webhook_id)
        return JSON({"success": True, "webhookId": webhook_id})

    @router.get("/{webhook_id}/attempts", dependencies=admin, responses=errors(400, 404))
    async def attempts(webhook_id: str, request: Request) -> JSON:
        """The newest delivery attempts: eventId, offset, status, latencyMs, error, at."""
        wanted = check_limit(request.query_params.get("limit"))
        return JSON(await service().attempts(webhook_id, wanted))

    @router.post(
        "/{webhook_id}/resend",
        dependencies=admin,
        openapi_extra=_body(EVENT_REF),
        responses=errors(400, 404, 413),
    )
    async def resend(webhook_id: str, request: Request) -> JSON:
        """Send one event again now (``{eventId}`` or ``{offset}``), outside the ordered
        queue; the attempt is recorded and answered."""
        body = only(await read_json(request, limit=limit), {"eventId", "offset"})
        return JSON(await service().resend(webhook_id, body))

    @router.post(
        "/{webhook_id}/skip",
        dependencies=admin,
        openapi_extra=_body(EVENT_REF),
        responses=errors(400, 404, 409, 413),
    )
    async def skip(webhook_id: str, request: Request) -> JSON:
        """Give up on the event a disabled endpoint is held on (``{eventId}`` or
        ``{offset}`` of that event): re-enabled, it delivers from the next event."""
        body = only(await read_json(request, limit=limit), {"eventId", "offset"})
        return JSON(await service().skip(webhook_id, body))

    @router.post("/{webhook_id}/test", dependencies=admin, responses=errors(404))
    async def test(webhook_id: str) -> JSON:
        """Send a signed ``webhook:test`` event now and answer how it went."""
        return JSON(await service().test(webhook_id))

    return router
