"""The OpenAPI bodies of ``/api/commands``: one request shape per command type, and the
command as answered (herald/commands/base.py says what each type's ``result`` holds)."""

from __future__ import annotations

from typing import Any

from herald.commands.base import COMMAND_TYPES, OUTCOMES
from herald.commands.entry import ACCOUNT_ID, COMMAND_ID, DATA_SCHEMAS

_ID = {
    "type": "string",
    "pattern": COMMAND_ID.pattern,
    "description": "Your idempotency key: the same id twice is the same command, answered "
    "with its first outcome; generated when left out",
}
_ACCOUNT = {
    "type": "string",
    "pattern": ACCOUNT_ID.pattern,
    "description": "The X account (herald accounts list) to act as; default: the pool's choice",
}


def _request(kind: str) -> dict[str, Any]:
    return {
        "type": "object",
        "title": kind,
        "required": ["type", "data"],
        "additionalProperties": False,
        "properties": {
            "type": {"type": "string", "enum": [kind]},
            "accountId": _ACCOUNT,
            "commandId": _ID,
            "data": DATA_SCHEMAS[kind],
        },
    }


REQUEST: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [_request(kind) for kind in COMMAND_TYPES],
                    "discriminator": {"propertyName": "type"},
                }
            }
        },
    }
}

COMMAND: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "data", "state"],
    "properties": {
        "id": {"type": "string", "description": "the commandId"},
        "type": {"type": "string", "enum": list(COMMAND_TYPES)},
        "accountId": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "data": {"type": "object"},
        "state": {
            "type": "string",
            "enum": ["requested", "running", *OUTCOMES],
            "description": "uncertain: X may or may not have done it (a timeout); herald "
            "reconciles and the log gets command:succeeded or command:failed later",
        },
        "result": {"type": "object", "description": "per type; see docs/commands-api.md"},
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "retryable": {"type": "boolean"},
            },
        },
        "requestedAt": {"type": "string"},
        "finishedAt": {"type": "string"},
    },
}


def answered(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": COMMAND}}}


LISTED: dict[str, Any] = {
    "description": "The most recent commands, newest first",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "commands": {"type": "array", "items": COMMAND},
                    "count": {"type": "integer"},
                },
            }
        }
    },
}
