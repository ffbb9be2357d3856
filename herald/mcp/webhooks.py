"""The webhook tools: list, add, update, remove, attempts, resend, skip, test.

They reach herald the way the alert tools do: in process on ``/mcp`` (admin callers only)
through the webhooks service, over REST for ``herald mcp``; the answers are the JSON of
``/api/webhooks``, and a refusal is the service's own text (``url: ...``).
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from herald.mcp.backend import Backend, ServiceCalls, id_segment

HookId = Annotated[str, Field(description="The endpoint's id, as webhooks_list shows it.")]
Selector = Annotated[
    dict[str, Any] | None,
    Field(
        description="Which events: {streamIds?, types?, platforms?, sentiment?, filters?}, "
        "the subscription language; leave out for every event."
    ),
]


class _Calls(ServiceCalls):
    """The webhook calls on either backend."""

    async def local(self, method: str, path: str, body: Any) -> dict[str, Any]:
        service = self.herald.webhooks
        parts = path.removeprefix("/api/webhooks").strip("/").split("/")
        if parts == [""]:
            if method == "POST":
                return await service.create(body)
            found = await service.list()
            return {"webhooks": found, "count": len(found)}
        hook_id, action = parts[0], (parts[1] if len(parts) > 1 else "")
        if action == "attempts":
            return await service.attempts(hook_id, int((body or {}).get("limit", 50)))
        if action == "resend":
            return await service.resend(hook_id, body)
        if action == "skip":
            return await service.skip(hook_id, body)
        if action == "test":
            return await service.test(hook_id)
        if method == "PATCH":
            return await service.update(hook_id, body)
        if method == "DELETE":
            await service.delete(hook_id)
            return {"success": True, "webhookId": hook_id}
        return await service.get(hook_id)


def _path(webhook_id: str, action: str = "") -> str:
    return f"/api/webhooks/{id_segment(webhook_id, 'webhookId')}{action}"


def _event_ref(event_id: str | None, offset: str | None) -> dict[str, str | None]:
    """One event of the log as the API names it: its eventId if given, else its offset."""
    return {"eventId": event_id} if event_id is not None else {"offset": offset}


def add_webhook_tools(server: MCPServer[Any], backend: Backend) -> None:
    from herald.mcp.tools import CHANGES, READ_ONLY, REMOVES, _answer

    calls = _Calls(backend)

    @server.tool(annotations=READ_ONLY)
    async def webhooks_list() -> dict[str, Any]:
        """List the webhook endpoints with their delivery status (health, delivered, a
        retry in progress); secrets are never shown."""
        return await _answer(calls.call("GET", "/api/webhooks"))

    @server.tool(annotations=CHANGES)
    async def webhook_create(
        url: Annotated[str, Field(description="The receiver's http(s) URL.")],
        selector: Selector = None,
        format: Annotated[
            str | None, Field(description="standard (event JSON), slack or discord.")
        ] = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Send matching events to a URL as signed POSTs (Standard Webhooks). The answer's
        secret is shown this once: give it to the receiver to verify signatures."""
        body = {"url": url, "selector": selector, "format": format, "description": description}
        return await _answer(
            calls.call("POST", "/api/webhooks", {k: v for k, v in body.items() if v is not None})
        )

    @server.tool(annotations=CHANGES)
    async def webhook_update(
        webhook_id: HookId,
        url: str | None = None,
        selector: Selector = None,
        format: str | None = None,
        enabled: Annotated[
            bool | None, Field(description="false stops delivery; true resumes it.")
        ] = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Change an endpoint; enabling a disabled one retries the event it stopped at."""
        body = {
            "url": url,
            "selector": selector,
            "format": format,
            "enabled": enabled,
            "description": description,
        }
        changes = {k: v for k, v in body.items() if v is not None}
        if not changes:
            raise ToolError("nothing to update: give at least one field")
        return await _answer(calls.call("PATCH", _path(webhook_id), changes))

    @server.tool(annotations=REMOVES)
    async def webhook_delete(webhook_id: HookId) -> dict[str, Any]:
        """Remove an endpoint."""
        return await _answer(calls.call("DELETE", _path(webhook_id)))

    @server.tool(annotations=READ_ONLY)
    async def webhook_attempts(webhook_id: HookId) -> dict[str, Any]:
        """The endpoint's newest delivery attempts: status, latencyMs, error, at."""
        return await _answer(calls.call("GET", _path(webhook_id, "/attempts")))

    @server.tool(annotations=CHANGES)
    async def webhook_resend(
        webhook_id: HookId,
        event_id: Annotated[str | None, Field(description="The eventId to send again.")] = None,
        offset: Annotated[str | None, Field(description="Or its log offset.")] = None,
    ) -> dict[str, Any]:
        """Send one event again now, outside the ordered queue; answers the attempt."""
        body = _event_ref(event_id, offset)
        return await _answer(calls.call("POST", _path(webhook_id, "/resend"), body))

    @server.tool(annotations=REMOVES)
    async def webhook_skip(
        webhook_id: HookId,
        event_id: Annotated[str | None, Field(description="The held event's eventId.")] = None,
        offset: Annotated[str | None, Field(description="Or its log offset.")] = None,
    ) -> dict[str, Any]:
        """Give up on the event a disabled endpoint is stuck on (name that event: the
        endpoint's status.failing.offset, or its newest attempt); enabled again, it delivers
        from the next event. Refused while the endpoint is enabled."""
        body = _event_ref(event_id, offset)
        return await _answer(calls.call("POST", _path(webhook_id, "/skip"), body))

    @server.tool(annotations=CHANGES)
    async def webhook_test(webhook_id: HookId) -> dict[str, Any]:
        """Send a signed webhook:test event now and answer how it went."""
        return await _answer(calls.call("POST", _path(webhook_id, "/test")))
