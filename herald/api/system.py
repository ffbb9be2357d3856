"""Health, metrics and X accounts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from herald import metrics
from herald.api import schemas
from herald.api.access import require_admin, require_all_streams, require_caller
from herald.api.body import only, read_json
from herald.api.openapi import errors
from herald.api.responses import JSON
from herald.engine import validation
from herald.errors import NotFound, ValidationError
from herald.service import Herald


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter()

    admin = [Depends(require_admin)]

    @router.get(
        "/api/health",
        tags=["system"],
        dependencies=[Depends(require_caller)],
        responses={503: {"description": "Unhealthy: the report says what is wrong"}},
    )
    async def health() -> JSON:
        """200 when Redis answers, the scheduler runs and no stream is stuck; 503 otherwise."""
        report = await herald.health()
        return JSON(report, status_code=200 if report["healthy"] else 503)

    @router.get(
        "/metrics",
        tags=["system"],
        dependencies=[Depends(require_all_streams)],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    async def prometheus() -> Response:
        if herald.delivery is not None:
            for transport, count in herald.delivery.connected_clients().items():
                metrics.CONNECTED_CLIENTS.labels(transport).set(count)
        metrics.ACTIVE_STREAMS.set((await herald.manager.stats())["active"])
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @router.get("/api/accounts", tags=["accounts"], dependencies=admin)
    async def list_accounts() -> JSON:
        accounts = await herald.accounts().list()
        return JSON({"accounts": [a.to_public() for a in accounts], "count": len(accounts)})

    @router.post(
        "/api/accounts",
        status_code=201,
        tags=["accounts"],
        dependencies=admin,
        responses=errors(400, 413),
        openapi_extra=schemas.ACCOUNT,
    )
    async def add_account(request: Request) -> JSON:
        """Store an X session cookie (encrypted). The answer never contains the cookie."""
        body = only(
            await read_json(request, limit=herald.settings.max_body_bytes), {"cookie", "label"}
        )
        cookie = validation.cookie(body.get("cookie"), field="cookie")
        label = body.get("label")
        if label is not None and (not isinstance(label, str) or len(label) > 100):
            raise ValidationError("label: must be a string of at most 100 characters")
        account = await herald.accounts().add(cookie, label=label)
        return JSON(account.to_public(), status_code=201)

    @router.delete(
        "/api/accounts/{account_id}", tags=["accounts"], dependencies=admin, responses=errors(404)
    )
    async def remove_account(account_id: str) -> JSON:
        if not await herald.accounts().remove(account_id):
            raise NotFound(f"no account with id {account_id!r}")
        return JSON({"success": True, "accountId": account_id})

    return router
