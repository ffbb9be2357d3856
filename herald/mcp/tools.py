"""The ``x_stream_*`` tools: typed inputs, descriptions written for a model, REST-shaped answers.

The names and behaviour follow the seed's MCP examples ("Start monitoring @elonmusk's
tweets" → ``x_stream_start``). ``x_stream_events`` is the reliable way for an agent to
follow a stream: MCP notifications carry no payload and many clients drop them, so the
agent pulls events after a cursor instead, waiting briefly when nothing is new.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from herald.delivery.subscription import MAX_LIMIT, MAX_WAIT, parse_query
from herald.errors import HeraldError
from herald.mcp.backend import Backend
from herald.sources.catalog import stream_types

StreamId = Annotated[
    str,
    Field(description="The stream's id, as returned by x_stream_start or x_stream_list."),
]
Interval = Annotated[
    float | None,
    Field(description="Seconds between polls: 15 to 3600 (the server's default is 60)."),
]
SnapshotLimit = Annotated[
    int | None,
    Field(
        description="Follower streams only: the largest follower list to diff completely, so "
        "lost followers can be reported (0 to 100000; default 1000).",
        ge=0,
        le=100_000,
    ),
]


def _type_enum(schema: dict[str, Any]) -> None:
    """The ``type`` parameter's enum: every name and alias of the catalog, read when the
    tools are registered (so a platform registered before then is offered too)."""
    schema["enum"] = list(stream_types().names)


StreamTypeName = Annotated[
    str,
    Field(
        description="What to watch: a stream type (each type and its target are listed in "
        "this tool's description).",
        json_schema_extra=_type_enum,
    ),
]
Target = Annotated[
    str,
    Field(
        description="The stream's target, as its type expects it (the tool description says "
        "what each type watches): an X handle with or without @ (e.g. 'nasa'), a feed URL..."
    ),
]
READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)
CHANGES = ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=True)
REMOVES = ToolAnnotations(readOnlyHint=False, destructiveHint=True, openWorldHint=False)


async def _answer(call: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Run a backend call; herald's refusals become tool errors the model can read."""
    try:
        return await call
    except HeraldError as exc:
        raise ToolError(exc.detail) from exc


def _options(limit: int | None) -> dict[str, Any] | None:
    return None if limit is None else {"followerSnapshotLimit": limit}


def add_tools(server: MCPServer[Any], backend: Backend) -> None:
    """Register every ``x_stream_*`` tool on ``server``, each calling ``backend``."""
    _start_tool(server, backend)
    _lifecycle_tools(server, backend)
    _update_tool(server, backend)
    _read_tools(server, backend)
    _events_tool(server, backend)
    from herald.mcp.pipelines import add_pipeline_tools

    add_pipeline_tools(server, backend)
    from herald.mcp.alerts import add_alert_tools

    add_alert_tools(server, backend)
    from herald.mcp.commands import add_command_tools

    add_command_tools(server, backend)
    from herald.mcp.webhooks import add_webhook_tools

    add_webhook_tools(server, backend)
    from herald.mcp.search import add_search_tools

    add_search_tools(server, backend)


START_DOC = """Start monitoring in real time ("start monitoring @nasa's tweets").

The first poll records a baseline and emits nothing; later polls emit one event per
change. Returns the new stream (its `id` is what the other tools take; `interval` is in
ms). Follow its events with x_stream_events. Starting the same type and target twice fails
with the id of the stream that already exists.

Stream types (`type`), what `username` (the target) is for each, and their events:
"""


def start_description() -> str:
    """The start tool's description, with one line per type of the catalog."""
    lines = [
        f"- {' / '.join(t.names)} ({t.platform}): {t.summary}. Target: {t.target.description}"
        f" (e.g. '{t.target.example}'). Events: {', '.join(e.value for e in t.events)}."
        for t in stream_types()
    ]
    return START_DOC + "\n".join(lines)


def _start_tool(server: MCPServer[Any], backend: Backend) -> None:
    @server.tool(annotations=CHANGES, description=start_description())
    async def x_stream_start(
        type: StreamTypeName,
        username: Target,
        interval: Interval = None,
        followerSnapshotLimit: SnapshotLimit = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"type": type, "username": username}
        if interval is not None:
            body["interval"] = interval
        if (opts := _options(followerSnapshotLimit)) is not None:
            body["options"] = opts
        return await _answer(backend.start(body))


def _read_tools(server: MCPServer[Any], backend: Backend) -> None:
    @server.tool(annotations=READ_ONLY)
    async def x_stream_list() -> dict[str, Any]:
        """List every stream ("show me all active streams"): id, type, platform, target
        (also as username), status (active, paused, error), interval, last and next poll,
        event counts and errors."""
        return await _answer(backend.list_streams())

    @server.tool(annotations=READ_ONLY)
    async def x_stream_status(streamId: StreamId) -> dict[str, Any]:
        """Everything about one stream: status, last/next poll, polls, events by type,
        consecutive errors and the last error's reason (why a stream stopped)."""
        return await _answer(backend.status(streamId))

    @server.tool(annotations=READ_ONLY)
    async def x_stream_history(
        streamId: StreamId,
        limit: Annotated[int, Field(description="How many events, newest first.", ge=1)] = 20,
    ) -> dict[str, Any]:
        """A stream's recent events, newest first (new items, follower changes, errors,
        gaps and lifecycle events). To follow new events, use x_stream_events."""
        return await _answer(backend.history(streamId, limit))

    @server.tool(annotations=READ_ONLY)
    async def x_stream_stats() -> dict[str, Any]:
        """Totals across all streams: by status and type, events by type, polls, errors."""
        return await _answer(backend.stats())


def _lifecycle_tools(server: MCPServer[Any], backend: Backend) -> None:
    @server.tool(annotations=REMOVES)
    async def x_stream_stop(streamId: StreamId) -> dict[str, Any]:
        """Stop monitoring and remove a stream ("stop monitoring @nasa"). Its state is
        deleted; use x_stream_pause instead to keep it for later. Find the id with
        x_stream_list."""
        return await _answer(backend.stop(streamId))

    @server.tool(annotations=CHANGES)
    async def x_stream_pause(streamId: StreamId) -> dict[str, Any]:
        """Pause a stream: no polls until resumed, state and history kept."""
        return await _answer(backend.pause(streamId))

    @server.tool(annotations=CHANGES)
    async def x_stream_resume(streamId: StreamId) -> dict[str, Any]:
        """Resume a paused stream, or restart one that stopped after 10 errors in a row.
        No new baseline: changes made while paused are reported."""
        return await _answer(backend.resume(streamId))


def _update_tool(server: MCPServer[Any], backend: Backend) -> None:
    @server.tool(annotations=CHANGES)
    async def x_stream_update(
        streamId: StreamId,
        interval: Interval = None,
        followerSnapshotLimit: SnapshotLimit = None,
    ) -> dict[str, Any]:
        """Change a stream's polling interval or options; effective from its next poll."""
        changes: dict[str, Any] = {}
        if interval is not None:
            changes["interval"] = interval
        if (opts := _options(followerSnapshotLimit)) is not None:
            changes["options"] = opts
        if not changes:
            raise ToolError("nothing to update: give interval or followerSnapshotLimit")
        return await _answer(backend.update(streamId, changes))


def _events_tool(server: MCPServer[Any], backend: Backend) -> None:
    @server.tool(annotations=READ_ONLY)
    async def x_stream_events(
        streamIds: Annotated[
            list[str] | None, Field(description="Only these streams (default: every stream).")
        ] = None,
        types: Annotated[
            list[str] | None,
            Field(
                description="Only these event types, e.g. ['stream:tweet:new', "
                "'stream:follower:new']; the 'stream:' prefix may be left out."
            ),
        ] = None,
        platforms: Annotated[
            list[str] | None,
            Field(description="Only events of these platforms, e.g. ['x'] (default: all)."),
        ] = None,
        sentiment: Annotated[
            str | list[str] | dict[str, float] | None,
            Field(
                description="Only items of this sentiment (scored at ingest): 'positive', "
                "'negative' or 'neutral', a list of them, or a compound range such as "
                "{'min': -1, 'max': -0.3}. Items without a score never match."
            ),
        ] = None,
        channels: Annotated[
            list[str] | None,
            Field(description="Only alert events routed to these channels (their 'channel')."),
        ] = None,
        filters: Annotated[
            dict[str, Any] | None,
            Field(
                description="Content filters, as for subscriptions: keywords, keywordMode "
                "('any'|'all'), caseSensitive, wholeWord, authors, excludeAuthors, "
                "excludeRetweets, excludeReplies, regex (RE2), languages, sentiment, channels."
            ),
        ] = None,
        since: Annotated[
            str | None,
            Field(
                description="The cursor from your previous call. Omit it on the first call to "
                "start from now; pass '0' to read everything the log still holds."
            ),
        ] = None,
        limit: Annotated[
            int, Field(description=f"At most this many events per call (1 to {MAX_LIMIT}).")
        ] = 100,
        waitSeconds: Annotated[
            float,
            Field(
                description="If nothing is new, wait up to this long for a first event "
                f"(0 to {MAX_WAIT:g} seconds)."
            ),
        ] = 0,
    ) -> dict[str, Any]:
        """Read new events after a cursor: the reliable way to follow streams.

        Returns `{events, cursor, recovered, gap}`, oldest first. Pass the returned `cursor`
        as `since` on the next call and you will see every event exactly once, even across
        restarts. `gap: true` (with `recovered: false` and `oldest`, the oldest offset still
        held) means events after your cursor were already trimmed from the log and are lost:
        the read restarted at `oldest`.
        Each event has `type` (e.g. stream:tweet:new), `streamId`, `platform`, `target`
        (also as `username`), the change itself (the item under its type's payload key:
        `tweet`, `mention`, `post`, `entry`...; `follower`, `unfollower`, or
        `followersCount` with `delta`), `detectedAt` and `offset`. Use waitSeconds (e.g.
        25) to wait for news instead of polling in a tight loop.
        """
        raw = {
            "streamIds": streamIds,
            "types": types,
            "platforms": platforms,
            "sentiment": sentiment,
            "channels": channels,
            "filters": filters,
            "since": since,
            "limit": limit,
            "wait": waitSeconds,
        }
        try:
            # The query model every transport uses: the same bad query, the same error text.
            query = parse_query({k: v for k, v in raw.items() if v is not None}, pull=True)
        except HeraldError as exc:
            raise ToolError(exc.detail) from exc
        return await _answer(backend.events(query))
