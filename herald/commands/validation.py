"""The rules of a command body ``{type, accountId?, commandId?, data}``: each failure names
the field and the rule, and nothing is stored or sent.

``data`` is normalised (tweet ids as strings, text as given), so the stored command says
exactly what was sent to X.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.commands.base import COMMAND_TYPES
from herald.errors import ValidationError

COMMAND_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
ACCOUNT_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
TWEET_ID = re.compile(r"^[0-9]{1,20}$")
TEXT_LIMIT = 280
"""X's limit for a standard account's post (longer posts need X Premium and another
mutation, CreateNoteTweet, which herald does not send)."""
_TOP_FIELDS = {"type", "accountId", "commandId", "data"}
_DATA_FIELDS: dict[str, set[str]] = {
    "post_tweet": {"text", "reply_to_tweet_id", "quote_tweet_id"},
    **{t: {"tweet_id"} for t in COMMAND_TYPES if t != "post_tweet"},
}


@dataclass(frozen=True, slots=True)
class CommandRequest:
    id: str
    type: str
    account_id: str | None
    data: dict[str, Any]
    client_id: bool
    """The client gave the id (its idempotency key), rather than herald making one."""


def new_command_id() -> str:
    return f"cmd_{uuid.uuid4().hex}"


def command_id(value: object) -> str:
    if not isinstance(value, str) or not COMMAND_ID.match(value):
        raise ValidationError(
            "commandId: must be 1-128 letters, digits or _ . : - (starting with a letter or digit)"
        )
    return value


def _tweet_id(data: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        value = str(value)
    if not isinstance(value, str) or not TWEET_ID.match(value.strip()):
        need = "required, " if required else ""
        raise ValidationError(f"data.{name}: {need}a tweet id (1-20 digits, as a string)")
    return value.strip()


def _text(data: Mapping[str, Any]) -> str:
    value = data.get("text")
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("data.text: required, a non-empty string")
    if len(value) > TEXT_LIMIT:
        raise ValidationError(f"data.text: at most {TEXT_LIMIT} characters (got {len(value)})")
    if "\x00" in value:
        raise ValidationError("data.text: must not contain NUL characters")
    return value


def command_data(command_type: str, value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError("data: required, a JSON object")
    unknown = sorted(set(map(str, value)) - _DATA_FIELDS[command_type])
    if unknown:
        allowed = ", ".join(sorted(_DATA_FIELDS[command_type]))
        raise ValidationError(f"data.{unknown[0]}: not a field of {command_type} ({allowed})")
    if command_type != "post_tweet":
        return {"tweet_id": _tweet_id(value, "tweet_id", required=True)}
    data: dict[str, Any] = {"text": _text(value)}
    for name in ("reply_to_tweet_id", "quote_tweet_id"):
        tweet_id = _tweet_id(value, name, required=False)
        if tweet_id is not None:
            data[name] = tweet_id
    return data


def parse_command(body: object) -> CommandRequest:
    """A checked command; ValidationError names the first field that breaks a rule."""
    if not isinstance(body, Mapping):
        raise ValidationError("body: must be a JSON object {type, accountId?, commandId?, data}")
    unknown = sorted(set(map(str, body)) - _TOP_FIELDS)
    if unknown:
        raise ValidationError(f"{unknown[0]}: unknown field (type, accountId, commandId, data)")
    command_type = body.get("type")
    if command_type not in COMMAND_TYPES:
        raise ValidationError(f"type: must be one of {', '.join(COMMAND_TYPES)}")
    account = body.get("accountId")
    if account is not None and (not isinstance(account, str) or not ACCOUNT_ID.match(account)):
        raise ValidationError("accountId: must be an account id (as `herald accounts` lists)")
    given = body.get("commandId")
    return CommandRequest(
        id=command_id(given) if given is not None else new_command_id(),
        type=str(command_type),
        account_id=account,
        data=command_data(str(command_type), body.get("data")),
        client_id=given is not None,
    )
