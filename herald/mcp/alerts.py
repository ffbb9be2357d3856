"""The alert tools: rules (list, create, update, delete), silences, and dry runs.

They reach herald the way the stream tools do: in process on ``/mcp`` (admin callers only)
through the alerts service, over REST for ``herald mcp``; the answers are the JSON of
``/api/alerts`` and ``/api/silences``, and a refusal is the service's own text
(``threshold: ...``), the same the REST API and the CLI give.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from herald.alerts.base import AlertsService
from herald.mcp.backend import Backend, ServiceCalls, id_segment

RuleId = Annotated[str, Field(description="The rule's id, as alerts_list shows it.")]
Duration = Annotated[
    float | str | None,
    Field(description="Seconds, or a string such as 30s, 5m, 1h."),
]
Names = Annotated[list[str] | None, Field(description="Leave out for every one.")]
Bound = Annotated[
    str,
    Field(description="A log offset (1700000000000-0) or an ISO 8601 time (2026-01-01T09:00Z)."),
]
RULE_DOC = (
    "type: sentiment (average compound score of posts, -1..1), engagement (likes, "
    "retweets... of tweets), volume (items per window) or keyword (each item containing "
    "the threshold text). condition: above, below or equals; contains for keyword rules."
)


class _Calls(ServiceCalls):
    """The alert calls on either backend, with the REST API's answers."""

    async def local(self, method: str, path: str, body: Any) -> dict[str, Any]:
        service: AlertsService = self.herald.alerts
        parts = path.removeprefix("/api/").split("/")
        if parts == ["alerts"]:
            if method == "POST":
                return await service.create_rule(body)
            rules = await service.list_rules()
            return {"alerts": rules, "count": len(rules)}
        if parts == ["alerts", "test"]:
            rule = body.get("rule", body.get("ruleId"))
            return await service.test_rule(rule, body["from"], body["to"])
        if parts[0] == "alerts" and method == "PATCH":
            return await service.update_rule(parts[1], body)
        if parts[0] == "alerts":
            await service.delete_rule(parts[1])
            return {"success": True, "ruleId": parts[1]}
        if method == "POST":
            return await service.create_silence(body)
        if method == "DELETE":
            await service.delete_silence(parts[1])
            return {"success": True, "silenceId": parts[1]}
        silences = await service.list_silences()
        return {"silences": silences, "count": len(silences)}


def _fields(**given: Any) -> dict[str, Any]:
    """The rule fields given (the tool's ``holdFor`` is the rule's ``for``)."""
    body = {k: v for k, v in given.items() if v is not None}
    if "holdFor" in body:
        body["for"] = body.pop("holdFor")
    scope = {k: body.pop(k) for k in ("streams", "platforms", "keywords") if k in body}
    if scope:
        body["scope"] = scope
    return body


def add_alert_tools(server: MCPServer[Any], backend: Backend) -> None:
    from herald.mcp.tools import CHANGES, READ_ONLY, REMOVES, _answer

    calls = _Calls(backend)

    @server.tool(annotations=READ_ONLY)
    async def alerts_list() -> dict[str, Any]:
        """List the alert rules, each with its live status {state (normal, pending, firing,
        recovering, resolved, nodata, error), value, since}."""
        return await _answer(calls.call("GET", "/api/alerts"))

    @server.tool(annotations=CHANGES, description=f"Add an alert rule. {RULE_DOC}")
    async def alert_create(
        type: Annotated[str, Field(description="sentiment, engagement, volume or keyword")],
        condition: Annotated[str, Field(description="above, below, equals, or contains")],
        threshold: Annotated[
            float | str, Field(description="A number; the text to find for keyword rules.")
        ],
        id: Annotated[str | None, Field(description="The rule's id (default: generated).")] = None,
        channel: Annotated[str | None, Field(description="Where its alerts go.")] = None,
        window: Duration = None,
        holdFor: Duration = None,
        keepFiringFor: Duration = None,
        minSamples: Annotated[int | None, Field(ge=0, description="Items a window needs.")] = None,
        resolveThreshold: Annotated[float | None, Field(description="Resolve past this.")] = None,
        enabled: bool | None = None,
        streams: Names = None,
        platforms: Names = None,
        keywords: Names = None,
    ) -> dict[str, Any]:
        body = _fields(
            id=id,
            type=type,
            condition=condition,
            threshold=threshold,
            channel=channel,
            window=window,
            holdFor=holdFor,
            keepFiringFor=keepFiringFor,
            minSamples=minSamples,
            resolveThreshold=resolveThreshold,
            enabled=enabled,
            streams=streams,
            platforms=platforms,
            keywords=keywords,
        )
        return await _answer(calls.call("POST", "/api/alerts", body))

    @server.tool(annotations=CHANGES)
    async def alert_update(
        ruleId: RuleId,
        enabled: Annotated[bool | None, Field(description="false pauses the rule.")] = None,
        threshold: float | str | None = None,
        condition: str | None = None,
        channel: str | None = None,
        window: Duration = None,
        holdFor: Duration = None,
        keepFiringFor: Duration = None,
        minSamples: Annotated[int | None, Field(ge=0)] = None,
        resolveThreshold: float | None = None,
        streams: Names = None,
        platforms: Names = None,
        keywords: Names = None,
    ) -> dict[str, Any]:
        """Change some fields of a rule (enabled=false disables it); the rest stay."""
        body = _fields(
            enabled=enabled,
            threshold=threshold,
            condition=condition,
            channel=channel,
            window=window,
            holdFor=holdFor,
            keepFiringFor=keepFiringFor,
            minSamples=minSamples,
            resolveThreshold=resolveThreshold,
            streams=streams,
            platforms=platforms,
            keywords=keywords,
        )
        if not body:
            raise ToolError("nothing to update: give at least one field")
        path = f"/api/alerts/{id_segment(ruleId, 'ruleId')}"
        return await _answer(calls.call("PATCH", path, body))

    @server.tool(annotations=REMOVES)
    async def alert_delete(ruleId: RuleId) -> dict[str, Any]:
        """Remove an alert rule."""
        path = f"/api/alerts/{id_segment(ruleId, 'ruleId')}"
        return await _answer(calls.call("DELETE", path))

    @server.tool(annotations=READ_ONLY)
    async def silences_list() -> dict[str, Any]:
        """The active and pending silences: {id, matchers, startsAt, endsAt, comment}."""
        return await _answer(calls.call("GET", "/api/silences"))

    @server.tool(annotations=CHANGES)
    async def silence_create(
        matchers: Annotated[
            list[dict[str, Any]],
            Field(
                description="[{name, value, isRegex?}], all must match an alert's labels "
                "(ruleId, channel, type, streamId, platform...)."
            ),
        ],
        endsAt: Annotated[str, Field(description="When the silence ends (ISO 8601).")],
        startsAt: Annotated[str | None, Field(description="Default: now.")] = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Mute the alerts matching every matcher until endsAt."""
        body = {"matchers": matchers, "endsAt": endsAt, "startsAt": startsAt, "comment": comment}
        body = {k: v for k, v in body.items() if v is not None}
        return await _answer(calls.call("POST", "/api/silences", body))

    @server.tool(annotations=REMOVES)
    async def silence_delete(
        silenceId: Annotated[str, Field(description="The silence's id (silences_list).")],
    ) -> dict[str, Any]:
        """End a silence now."""
        path = f"/api/silences/{id_segment(silenceId, 'silenceId')}"
        return await _answer(calls.call("DELETE", path))

    @server.tool(annotations=READ_ONLY)
    async def alert_test(
        start: Bound,
        end: Bound,
        ruleId: Annotated[str | None, Field(description="A stored rule to try.")] = None,
        rule: Annotated[
            dict[str, Any] | None,
            Field(description="Or a rule body, as alert_create takes it (use 'for')."),
        ] = None,
    ) -> dict[str, Any]:
        """What a rule would have done over a past part of the log (a dry run: nothing is
        stored or sent): {ruleId, from, to, evaluated, transitions: [{state, previous, at,
        value, threshold, samples}]}."""
        if (rule is None) == (ruleId is None):
            raise ToolError("rule: give a rule body in rule, or a stored rule's id in ruleId")
        body: dict[str, Any] = {"from": start, "to": end}
        body["rule" if rule is not None else "ruleId"] = rule if rule is not None else ruleId
        return await _answer(calls.call("POST", "/api/alerts/test", body))
