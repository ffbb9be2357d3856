"""The ``pipeline_*`` tools: list, status, pause, resume, replay of running pipelines.

They reach herald the way the stream tools do: in process on ``/mcp`` (which admits admin
callers only), over REST for ``herald mcp``, with the same JSON answers as
``/api/pipelines``.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from herald.mcp.backend import Backend, ServiceCalls

Name = Annotated[str, Field(description="The pipeline's name, as pipeline_list shows it.")]
Bound = Annotated[
    str | None,
    Field(description="A log offset (1700000000000-0), an ISO 8601 time, or a time ago (24h)."),
]


class _Calls(ServiceCalls):
    """The pipeline calls on either backend."""

    async def local(self, method: str, path: str, body: Any) -> dict[str, Any]:
        control = self.herald.pipelines
        parts = path.removeprefix("/api/pipelines").strip("/").split("/")
        if parts == [""]:
            found = await control.list()
            return {"pipelines": found, "count": len(found)}
        name, action = parts[0], (parts[1] if len(parts) > 1 else "")
        if action == "pause":
            return await control.pause(name)
        if action == "resume":
            return await control.resume(name)
        if action == "replay":
            return await control.replay(name, body or {})
        return await control.status(name)


def add_pipeline_tools(server: MCPServer[Any], backend: Backend) -> None:
    from herald.mcp.tools import CHANGES, READ_ONLY, _answer

    calls = _Calls(backend)

    @server.tool(annotations=READ_ONLY)
    async def pipeline_list() -> dict[str, Any]:
        """List the declared pipelines with status, owner, lag, rates and error counts."""
        return await _answer(calls.call("GET", "/api/pipelines"))

    @server.tool(annotations=READ_ONLY)
    async def pipeline_status(name: Name) -> dict[str, Any]:
        """One pipeline in full: lag, rates, errors, state size, owner, recent dead letters."""
        return await _answer(calls.call("GET", f"/api/pipelines/{name}"))

    @server.tool(annotations=CHANGES)
    async def pipeline_pause(name: Name) -> dict[str, Any]:
        """Pause a pipeline; it resumes exactly where it stopped."""
        return await _answer(calls.call("POST", f"/api/pipelines/{name}/pause"))

    @server.tool(annotations=CHANGES)
    async def pipeline_resume(name: Name) -> dict[str, Any]:
        """Resume a paused pipeline (after a state error the state is tried again)."""
        return await _answer(calls.call("POST", f"/api/pipelines/{name}/resume"))

    @server.tool(annotations=CHANGES)
    async def pipeline_replay(
        name: Name,
        start: Bound = None,
        end: Bound = None,
        dead_letters: Annotated[
            bool, Field(description="Retry the dead letters instead of a dry run.")
        ] = False,
        limit: Annotated[int, Field(ge=1, le=1000, description="Outputs to return.")] = 100,
    ) -> dict[str, Any]:
        """Run the pipeline's code over a past part of the log and return its outputs (a dry
        run: nothing is appended), or retry its dead letters with deadLetters=true."""
        body: dict[str, Any] = {"deadLetters": True}
        if not dead_letters:
            body = {"from": start or "24h", "limit": limit}
            if end is not None:
                body["to"] = end
        return await _answer(calls.call("POST", f"/api/pipelines/{name}/replay", body))
