"""X write commands over Socket.IO: ``socket.emitWithAck("command", {type, commandId?,
accountId?, data})`` is answered through the ack with the command and its outcome.

The ack is the command (``state``: succeeded, failed or uncertain; ``result`` or
``error``), or ``{error, detail, retryAfter?}`` when it was refused before anything was
sent. Without an ack the command still runs; its outcome is in the log (``command:*``
events). The connection and its event delivery are untouched by a bad command.
"""

from __future__ import annotations

import logging
from typing import Any

from herald.auth import Principal
from herald.commands import entry
from herald.delivery.transport import Context
from herald.errors import HeraldError

log = logging.getLogger(__name__)

EVENT = "command"


async def run(ctx: Context, key: str, principal: Principal, data: Any) -> Any:
    """The ack of one ``command`` emit; ``key`` is whose command budget it spends."""
    limiter = ctx.command_limiter
    if not limiter.allow(key):
        wait = round(limiter.retry_after(key), 3)
        return {
            "error": "rate_limited",
            "detail": f"too many requests; retry in {wait:.2f}s",
            "retryAfter": wait,
        }
    try:
        return await entry.submit(ctx.commands, principal, data, wait=True)
    except HeraldError as exc:
        return entry.refusal(exc)
    except Exception:
        log.exception("command over Socket.IO failed")
        return {"error": "internal", "detail": "the command failed inside herald"}
