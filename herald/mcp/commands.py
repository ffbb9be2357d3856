"""The X write tools: ``post_tweet``, ``delete_tweet``, ``like_tweet``, ``unlike_tweet``,
``retweet``, ``unretweet`` and ``get_command``.

They reach herald the way the alert tools do: in process on ``/mcp`` (admin callers
only) through the commands service, over REST (``POST /api/commands``) for ``herald
mcp``, whose token then needs the write permission. Each answers the command with its
outcome; a refusal (writes off, rate limit, paused account) is the service's own text.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from herald.auth import ANONYMOUS
from herald.commands import entry
from herald.commands.base import CommandsService
from herald.mcp.backend import Backend, LocalBackend, RestBackend

TweetId = Annotated[str, Field(description="The tweet's id (digits), as events carry it.")]
CommandId = Annotated[
    str | None,
    Field(
        description="Your idempotency key: calling again with the same commandId answers "
        "the first outcome and never acts twice. Generated when left out."
    ),
]
AccountId = Annotated[
    str | None, Field(description="The X account to act as (default: the pool's choice).")
]
WRITES = ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=True)
UNDOES = ToolAnnotations(
    readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=True
)
OUTCOME = (
    " Answers the command: state succeeded (see result), failed (see error) or uncertain "
    "(X did not answer in time: herald finds out and settles it; check with get_command; "
    "do not resend with a new commandId). Needs HERALD_ENABLE_WRITES=true on the server."
)


class _Calls:
    """The command calls on either backend, with the REST API's answers."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def _service(self) -> CommandsService:
        backend = self._backend
        if not isinstance(backend, LocalBackend):
            raise TypeError("unknown MCP backend")
        return entry.require(backend.herald.commands)

    async def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self._backend, RestBackend):
            return await self._backend._call("POST", "/api/commands", json=body)
        # /mcp lets only administrators in (herald.mcp.http), who may write.
        return await entry.submit(self._service(), ANONYMOUS, body)

    async def get(self, command_id: str) -> dict[str, Any]:
        if isinstance(self._backend, RestBackend):
            if not entry.COMMAND_ID.match(command_id):
                raise ToolError(f"commandId: {command_id[:64]!r} is not a command id")
            return await self._backend._call("GET", f"/api/commands/{command_id}")
        return await self._service().get(command_id)


def _body(
    kind: str, data: dict[str, Any], command_id: str | None, account: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "data": {k: v for k, v in data.items() if v}}
    if command_id:
        body["commandId"] = command_id
    if account:
        body["accountId"] = account
    return body


def add_command_tools(server: MCPServer[Any], backend: Backend) -> None:
    from herald.mcp.tools import READ_ONLY, _answer

    calls = _Calls(backend)

    @server.tool(annotations=WRITES, description="Post a tweet (or a reply, or a quote)." + OUTCOME)
    async def post_tweet(
        text: Annotated[str, Field(min_length=1, description="The tweet's text.")],
        replyToTweetId: Annotated[str | None, Field(description="Reply to this tweet.")] = None,
        quoteTweetId: Annotated[str | None, Field(description="Quote this tweet.")] = None,
        commandId: CommandId = None,
        accountId: AccountId = None,
    ) -> dict[str, Any]:
        data = {"text": text, "reply_to_tweet_id": replyToTweetId, "quote_tweet_id": quoteTweetId}
        return await _answer(calls.submit(_body("post_tweet", data, commandId, accountId)))

    def _tweet_tool(kind: str, summary: str, annotations: ToolAnnotations) -> None:
        async def tool(
            tweetId: TweetId, commandId: CommandId = None, accountId: AccountId = None
        ) -> dict[str, Any]:
            body = _body(kind, {"tweet_id": tweetId}, commandId, accountId)
            return await _answer(calls.submit(body))

        server.tool(name=kind, annotations=annotations, description=summary + OUTCOME)(tool)

    _tweet_tool("delete_tweet", "Delete one of the account's own tweets.", UNDOES)
    _tweet_tool("like_tweet", "Like a tweet.", WRITES)
    _tweet_tool("unlike_tweet", "Take back a like.", UNDOES)
    _tweet_tool("retweet", "Retweet a tweet.", WRITES)
    _tweet_tool("unretweet", "Undo a retweet.", UNDOES)

    @server.tool(annotations=READ_ONLY)
    async def get_command(
        commandId: Annotated[str, Field(description="The command's id (its commandId).")],
    ) -> dict[str, Any]:
        """One command as stored: its state (requested, running, succeeded, failed,
        uncertain) and its result or error. An uncertain command settles later."""
        return await _answer(calls.get(commandId))
