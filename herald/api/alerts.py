"""Alert rules and silences over REST: ``/api/alerts``, ``/api/alerts/test``, ``/api/silences``.

The routes are thin: bodies are read by hand (any Content-Type) and handed to the alerts
service (:class:`herald.alerts.base.AlertsService`), which validates a rule or a silence as
a whole, refuses unknown fields, and names the field it refuses. Rules and silences reach
across streams (a rule's scope may be every stream, a dry run reads every stream's events),
so reading needs a token without a ``streams`` restriction and changing needs admin
(docs/auth.md).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Request

from herald.alerts.base import AlertsService
from herald.alerts.model import iso, parse_rule
from herald.api import alerts_schemas as schemas
from herald.api.access import require_admin, require_all_streams
from herald.api.body import only, read_json
from herald.api.openapi import errors
from herald.api.responses import JSON
from herald.errors import ValidationError
from herald.service import Herald

TEST_FIELDS = {"rule", "ruleId", "from", "to"}


def _service(herald: Herald) -> AlertsService:
    return herald.alerts


def writable(body: dict[str, Any]) -> dict[str, Any]:
    """A rule body without what only answers carry (a rule read with GET can be sent back)."""
    return {k: v for k, v in body.items() if k not in schemas.READ_ONLY}


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter(prefix="/api")
    _rule_routes(router, herald)
    _silence_routes(router, herald)
    return router


def _rule_routes(router: APIRouter, herald: Herald) -> None:
    read = [Depends(require_all_streams)]
    admin = [Depends(require_admin)]
    limit = herald.settings.max_body_bytes

    @router.get("/alerts", tags=["alerts"], dependencies=read)
    async def list_rules() -> JSON:
        """Every rule with its live ``status`` (state, value, since), in creation order."""
        rules = await _service(herald).list_rules()
        return JSON({"alerts": rules, "count": len(rules)})

    @router.post(
        "/alerts",
        tags=["alerts"],
        status_code=201,
        dependencies=admin,
        openapi_extra=schemas.create_rule(),
        responses=errors(400, 409, 413),
    )
    async def create_rule(request: Request) -> JSON:
        """Add a rule; ``id`` is generated unless given (an id in use is a 409)."""
        body = writable(await read_json(request, limit=limit))
        return JSON(await _service(herald).create_rule(body), status_code=201)

    @router.post(
        "/alerts/test",
        tags=["alerts"],
        dependencies=read,
        openapi_extra=schemas.TEST,
        responses=errors(400, 404, 413),
    )
    async def test_rule(request: Request) -> JSON:
        """A dry run: evaluate ``rule`` (a rule body) or the stored ``ruleId`` over the log
        from ``from`` to ``to`` and answer the transitions it would have made. Nothing is
        stored and no event is emitted."""
        body = only(await read_json(request, limit=limit), TEST_FIELDS)
        rule = _rule_to_test(body)
        for bound in ("from", "to"):
            if not isinstance(body.get(bound), str) or not body[bound]:
                raise ValidationError(f"{bound}: required, a log offset or a time")
        return JSON(await _service(herald).test_rule(rule, body["from"], body["to"]))

    @router.get("/alerts/{rule_id}", tags=["alerts"], dependencies=read, responses=errors(404))
    async def get_rule(rule_id: str) -> JSON:
        return JSON(await _service(herald).get_rule(rule_id))

    @router.patch(
        "/alerts/{rule_id}",
        tags=["alerts"],
        dependencies=admin,
        openapi_extra=schemas.update_rule(),
        responses=errors(400, 404, 413),
    )
    async def update_rule(rule_id: str, request: Request) -> JSON:
        """Change some fields (``{enabled: false}`` disables); checked as a whole rule, so a
        refused change stores nothing."""
        body = writable(await read_json(request, limit=limit))
        return JSON(await _service(herald).update_rule(rule_id, body))

    @router.put(
        "/alerts/{rule_id}",
        tags=["alerts"],
        dependencies=admin,
        openapi_extra=schemas.replace_rule(),
        responses=errors(400, 404, 413),
    )
    async def replace_rule(rule_id: str, request: Request) -> JSON:
        """Replace a rule with the body: fields left out go back to their defaults. The
        rule keeps its id (a body ``id`` must be the same) and ``createdAt``."""
        service = _service(herald)
        await service.get_rule(rule_id)  # an unknown rule is a 404 whatever the body
        body = writable(await read_json(request, limit=limit))
        if body.get("id") not in (None, rule_id):
            raise ValidationError(f"id: the body's id {body['id']!r} is not the path's {rule_id!r}")
        # The body as a whole new rule (defaults for what it leaves out), then stored over
        # the old one: the same checks and the same refusal as a create.
        whole = parse_rule(body, now=iso(time.time()), rule_id=rule_id)
        return JSON(await service.update_rule(rule_id, whole))

    @router.delete("/alerts/{rule_id}", tags=["alerts"], dependencies=admin, responses=errors(404))
    async def delete_rule(rule_id: str) -> JSON:
        await _service(herald).delete_rule(rule_id)
        return JSON({"success": True, "ruleId": rule_id})


def _rule_to_test(body: dict[str, Any]) -> dict[str, Any] | str:
    """Exactly one of ``rule`` (an object) and ``ruleId`` (a stored rule's id)."""
    if ("rule" in body) == ("ruleId" in body):
        raise ValidationError("rule: give a rule body in rule, or a stored rule's id in ruleId")
    if "ruleId" in body:
        rule_id = body["ruleId"]
        if not isinstance(rule_id, str) or not rule_id:
            raise ValidationError("ruleId: must be a non-empty string")
        return rule_id
    rule = body["rule"]
    if not isinstance(rule, dict):
        raise ValidationError("rule: must be a JSON object (a rule, as for POST /api/alerts)")
    return writable(rule)


def _silence_routes(router: APIRouter, herald: Herald) -> None:
    read = [Depends(require_all_streams)]
    admin = [Depends(require_admin)]
    limit = herald.settings.max_body_bytes

    @router.get("/silences", tags=["alerts"], dependencies=read)
    async def list_silences() -> JSON:
        """Active and pending silences (expired ones are dropped)."""
        silences = await _service(herald).list_silences()
        return JSON({"silences": silences, "count": len(silences)})

    @router.post(
        "/silences",
        tags=["alerts"],
        status_code=201,
        dependencies=admin,
        openapi_extra=schemas.SILENCE,
        responses=errors(400, 413),
    )
    async def create_silence(request: Request) -> JSON:
        """Mute the alerts whose labels match every matcher, until ``endsAt``."""
        body = await read_json(request, limit=limit)
        return JSON(await _service(herald).create_silence(body), status_code=201)

    @router.delete(
        "/silences/{silence_id}", tags=["alerts"], dependencies=admin, responses=errors(404)
    )
    async def delete_silence(silence_id: str) -> JSON:
        """End a silence now."""
        await _service(herald).delete_silence(silence_id)
        return JSON({"success": True, "silenceId": silence_id})
