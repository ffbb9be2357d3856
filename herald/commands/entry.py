"""What every entry point (REST, ``/ws``, Socket.IO, MCP, CLI) does with a command before
and after the service: read the envelope, check that the caller may write, and say
whether the answer is final.

The envelope is checked here, the same way everywhere, so a malformed message gets the
same ``validation_error`` on every entry point whatever the service would say; each
type's ``data`` is the service's to check (it names the field it refuses).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herald.auth import ANONYMOUS, WRITE_SCOPE, Principal
from herald.commands import validation
from herald.commands.base import COMMAND_TYPES, OUTCOMES, CommandsService
from herald.errors import Forbidden, HeraldError, ValidationError

ENVELOPE_FIELDS = ("type", "accountId", "commandId", "data")
#: A client-given ``commandId`` and an ``accountId``: the service's own rules.
COMMAND_ID, ACCOUNT_ID = validation.COMMAND_ID, validation.ACCOUNT_ID
#: Commands per second per caller over ``/ws`` and Socket.IO together, and the burst: the
#: rate of REST's write limit per client. (X's own budget is per account, in the service.)
COMMAND_RATE, COMMAND_BURST = 20.0, 100.0
#: The longest a caller may ask an entry point to wait for an outcome, in seconds.
MAX_WAIT = 120.0
TWEET_ID: dict[str, Any] = {"type": "string", "pattern": validation.TWEET_ID.pattern}
#: What a command's ``data`` holds, per type (the answers' ``result`` is in base.py).
#: Synthetic field names in X's own snake case, as the issue names them and as the
#: open-source clients (twikit's ``create_tweet(text, reply_to, ...)``) take them.
DATA_SCHEMAS: dict[str, dict[str, Any]] = {
    "post_tweet": {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {
                "type": "string",
                "minLength": 1,
                "maxLength": validation.TEXT_LIMIT,
                "description": "The tweet's text.",
            },
            "reply_to_tweet_id": {**TWEET_ID, "description": "Reply to this tweet."},
            "quote_tweet_id": {**TWEET_ID, "description": "Quote this tweet."},
        },
    },
    **{
        name: {
            "type": "object",
            "required": ["tweet_id"],
            "properties": {"tweet_id": {**TWEET_ID, "description": what}},
        }
        for name, what in (
            ("delete_tweet", "The tweet to delete (one of the account's own)."),
            ("like_tweet", "The tweet to like."),
            ("unlike_tweet", "The tweet to unlike."),
            ("retweet", "The tweet to retweet."),
            ("unretweet", "The tweet whose retweet to undo."),
        )
    },
}


class CommandsUnavailable(HeraldError):
    """This process serves no commands service (a worker-only or test herald)."""

    code = "commands_unavailable"
    status = 503


def limit_key(principal: Principal, address: str) -> str:
    """Whose command budget a socket's command spends: the caller's (every connection of
    one token shares it, as REST's does), or its address when auth is off."""
    if principal.subject == ANONYMOUS.subject:
        return f"address:{address}"
    return f"subject:{principal.subject}"


def check_writer(principal: Principal) -> None:
    """403 unless the caller may act on X (docs/auth.md)."""
    if not principal.may_write:
        raise Forbidden(
            "commands need an API key, a token with admin: true, or a token with the "
            f"{WRITE_SCOPE!r} scope and no streams claim"
        )


def parse_envelope(body: Any) -> dict[str, Any]:
    """``{type, accountId?, commandId?, data}`` checked and trimmed to what is given."""
    if not isinstance(body, Mapping):
        raise ValidationError("command: must be a JSON object {type, accountId?, commandId?, data}")
    unknown = sorted(str(k) for k in body if k not in ENVELOPE_FIELDS)
    if unknown:
        raise ValidationError(
            f"{unknown[0][:64]}: unknown field (allowed: {', '.join(ENVELOPE_FIELDS)})"
        )
    kind = body.get("type")
    if kind not in COMMAND_TYPES:
        shown = repr(kind)[:64] if kind is not None else "missing"
        raise ValidationError(f"type: {shown} is not a command type ({', '.join(COMMAND_TYPES)})")
    envelope: dict[str, Any] = {"type": kind}
    command_id = body.get("commandId")
    if command_id is not None:
        if not isinstance(command_id, str) or not COMMAND_ID.match(command_id):
            raise ValidationError("commandId: 1-128 characters of letters, digits and . _ : @ -")
        envelope["commandId"] = command_id
    account = body.get("accountId")
    if account is not None:
        if not isinstance(account, str) or not ACCOUNT_ID.match(account):
            raise ValidationError("accountId: an account id (as `herald accounts list` shows)")
        envelope["accountId"] = account
    data = body.get("data", None)
    if not isinstance(data, Mapping):
        raise ValidationError(f"data: must be a JSON object ({_fields(kind)})")
    envelope["data"] = dict(data)
    return envelope


def _fields(kind: str) -> str:
    schema = DATA_SCHEMAS[kind]
    required = set(schema.get("required", ()))
    names = [n if n in required else f"{n}?" for n in schema["properties"]]
    return f"{kind} takes {{{', '.join(names)}}}"


def wait_time(value: Any) -> float | None:
    """A caller's ``timeout``: seconds in (0, MAX_WAIT], or ``None`` for the service's own."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_WAIT:
        raise ValidationError(f"timeout: seconds, more than 0 and at most {MAX_WAIT:g}")
    return float(value)


def finished(command: Mapping[str, Any]) -> bool:
    """The command has its outcome (succeeded, failed, or uncertain)."""
    return command.get("state") in OUTCOMES


async def submit(
    service: CommandsService | None,
    principal: Principal,
    body: Any,
    *,
    wait: bool = True,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Who may write first, then the envelope, then the service: the one path every entry
    point takes, so each refuses the same things in the same order."""
    check_writer(principal)
    envelope = parse_envelope(body)
    return await require(service).submit(envelope, wait=wait, timeout=timeout)


def require(service: CommandsService | None) -> CommandsService:
    if service is None:
        raise CommandsUnavailable("this herald serves no commands")
    return service


def refusal(exc: HeraldError) -> dict[str, Any]:
    """A refused command as ``{error, detail, retryAfter?}`` for the socket entry points."""
    answer: dict[str, Any] = {"error": exc.code, "detail": exc.detail}
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float):
        answer["retryAfter"] = round(float(retry_after), 3)
    return answer
