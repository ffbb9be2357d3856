"""What every entry point (REST, ``/ws``, Socket.IO, MCP, CLI) asks of commands, as JSON in
and JSON out.

A command is ``{type, accountId?, commandId?, data}`` (DESIGN §5). ``commandId`` is the
client's idempotency key: the same id twice is the same command, answered with the first
outcome (a second submit while the first runs waits for it). Without one, herald makes one.

A command as answered is ``{id, type, accountId, data, state, result?, error?,
requestedAt, finishedAt?}`` where ``state`` is one of :data:`OUTCOMES` or ``"requested"``
/ ``"running"``. ``error`` is ``{code, message, retryable}``; ``result`` is per type:

- ``post_tweet`` -> ``{tweetId, url, text}``
- ``delete_tweet`` -> ``{tweetId, deleted: true}``
- ``like_tweet`` / ``unlike_tweet`` -> ``{tweetId, liked: bool}``
- ``retweet`` / ``unretweet`` -> ``{tweetId, retweeted: bool, retweetId?}``

The log gets ``command:requested`` then exactly one of ``command:succeeded | failed |
uncertain`` ``{command: {id, type, accountId, data, result?, error?}}`` with
``correlationId`` = the command id; an ``uncertain`` command that reconciliation settles
later gets its ``succeeded`` or ``failed`` then.

Errors before anything is sent raise: :class:`herald.errors.ValidationError` (bad type or
data, naming the field), ``WritesDisabled`` (403 ``writes_disabled``: writes are off
unless ``HERALD_ENABLE_WRITES=true``), a rate-limit error (429 ``write_rate_limited`` with
``retryAfter``), ``AccountPaused`` (409 ``account_paused``: X answered 226/326 earlier).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

COMMAND_TYPES: tuple[str, ...] = (
    "post_tweet",
    "delete_tweet",
    "like_tweet",
    "unlike_tweet",
    "retweet",
    "unretweet",
)
OUTCOMES: tuple[str, ...] = ("succeeded", "failed", "uncertain")


@runtime_checkable
class CommandsService(Protocol):
    async def submit(
        self, body: Mapping[str, Any], *, wait: bool = True, timeout: float | None = None
    ) -> dict[str, Any]:
        """Validate, record ``command:requested``, run it, and answer the command with its
        outcome (``wait=False``: answer once requested). The same ``commandId`` answers
        the stored command without running it again."""
        ...

    async def get(self, command_id: str) -> dict[str, Any]:
        """One command as stored; unknown id raises :class:`herald.errors.NotFound`."""
        ...

    async def list(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """The most recent commands, newest first."""
        ...
