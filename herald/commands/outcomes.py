"""What an X answer (or its absence) means for a command: succeeded, failed or uncertain.

The rule that matters: an error raised after the request may have left (a timeout, a
dropped connection, a 5xx, an answer herald cannot read) is ``uncertain``, never
``failed``, because X may have applied the write. Only errors that prove nothing was
applied (a refusal with X's own code, a connection never made) fail the command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from herald.errors import (
    AccountAuthFailed,
    AccountLocked,
    AccountSuspended,
    AutomationSuspected,
    ConfigError,
    RateLimited,
    UpstreamError,
    ValidationError,
    WriteRefused,
)
from herald.sources.x.mutations import ALREADY_DONE, GONE_ON_RETRY, already_done

State = Literal["succeeded", "failed", "uncertain"]
PauseHealth = Literal["write_paused", "locked"]


@dataclass(frozen=True, slots=True)
class Outcome:
    state: State
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    pause: PauseHealth | None = None
    """Pause the account's writes, with this account health (X's 226 or 326)."""
    health: str | None = None
    """Another account health verdict (auth_failed, suspended)."""
    extra: dict[str, Any] = field(default_factory=dict)


def error(code: str, message: str, *, retryable: bool) -> dict[str, Any]:
    return {"code": code, "message": message, "retryable": retryable}


def outcome_of(
    exc: BaseException, command_type: str, data: Mapping[str, Any], *, retry: bool = False
) -> Outcome:
    """The outcome of a send that raised ``exc``. ``retry``: a reconciler re-issued the
    command, so "no such tweet" on a delete means the first attempt deleted it."""
    if isinstance(exc, WriteRefused):
        done = ALREADY_DONE.get(command_type, frozenset())
        if retry:
            done = done | GONE_ON_RETRY.get(command_type, frozenset())
        if exc.x_codes & done:
            return Outcome("succeeded", already_done(command_type, data))
        return Outcome("failed", error=error("x_refused", exc.detail, retryable=False))
    if isinstance(exc, AutomationSuspected):
        return Outcome(
            "failed",
            error=error("account_paused", exc.detail, retryable=False),
            pause="write_paused",
        )
    if isinstance(exc, AccountLocked):
        message = f"X error 326, the account is locked: {exc.detail}; its writes are paused"
        return Outcome(
            "failed", error=error("account_paused", message, retryable=False), pause="locked"
        )
    if isinstance(exc, AccountSuspended):
        return Outcome(
            "failed",
            error=error("account_unusable", exc.detail, retryable=False),
            health="suspended",
        )
    if isinstance(exc, AccountAuthFailed):
        return Outcome(
            "failed",
            error=error("account_unusable", exc.detail, retryable=False),
            health="auth_failed",
        )
    if isinstance(exc, RateLimited):
        return Outcome("failed", error=error("x_rate_limited", exc.detail, retryable=True))
    if isinstance(exc, UpstreamError):  # the connection was never made: nothing was sent
        return Outcome("failed", error=error("x_unreachable", exc.detail, retryable=True))
    if isinstance(exc, (ConfigError, ValidationError)):  # refused before anything was sent
        return Outcome("failed", error=error(exc.code, exc.detail, retryable=False))
    detail = getattr(exc, "detail", None) or type(exc).__name__
    return Outcome(
        "uncertain",
        error=error("outcome_unknown", f"{detail}; reconciliation will settle it", retryable=False),
    )
