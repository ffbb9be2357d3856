"""Request bodies as the OpenAPI document describes them: the same rules the code applies.

Bodies are read by hand (:mod:`herald.api.body`: any Content-Type, unknown fields refused),
so FastAPI cannot infer them; these schemas state each field's type and bounds, taken
from the same settings and constants the validation uses, so a client (or a fuzzer) that
follows the document is accepted and one that does not gets a 400.
"""

from __future__ import annotations

from typing import Any

from herald.config import Settings
from herald.engine.validation import MAX_COOKIE, USERNAME_PATTERN

# One line of printable ASCII holding an auth_token: a bare value (no "="), or a cookie
# header with an ``auth_token=<value>`` pair (what herald.engine.validation.cookie checks).
COOKIE_PATTERN = (
    r"^(?:[ -<>-~]*[!-<>-~][ -<>-~]*"
    r"|(?:[ -~]*;)? *auth_token *=[ \"]*[!#-:<-~][ -~]*)$"
)
COOKIE: dict[str, Any] = {"type": "string", "maxLength": MAX_COOKIE, "pattern": COOKIE_PATTERN}
OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "followerSnapshotLimit": {"type": "integer", "minimum": 0, "maximum": 100_000},
    },
}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """JSON null is accepted too (it means "not given")."""
    return {"anyOf": [schema, {"type": "null"}]}


def token(description: str) -> dict[str, Any]:
    """A cookie, or "" / null for "no token of its own" (the shared accounts)."""
    return {
        "anyOf": [COOKIE, {"type": "string", "maxLength": 0}, {"type": "null"}],
        "description": description,
    }


def body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """``openapi_extra`` for a JSON body with exactly these fields."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    else:
        schema["minProperties"] = 1
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }


def interval(settings: Settings) -> dict[str, Any]:
    return {
        "type": "number",
        "minimum": settings.min_interval,
        "maximum": settings.max_interval,
        "description": f"seconds ({settings.min_interval:g} to {settings.max_interval:g}, "
        f"default {settings.default_interval:g}); answered in milliseconds",
    }


def start(settings: Settings) -> dict[str, Any]:
    return body(
        {
            "type": {"type": "string", "enum": ["tweet", "follower", "mention"]},
            "username": {"type": "string", "pattern": USERNAME_PATTERN},
            "interval": nullable(interval(settings)),
            "authToken": token(
                "X auth_token cookie (one line of printable ASCII, at most "
                f"{MAX_COOKIE} characters); stored encrypted"
            ),
            "userId": nullable({"type": "string", "maxLength": 200}),
            "options": nullable(OPTIONS),
        },
        ["type", "username"],
    )


STOP = body({"streamId": {"type": "string", "minLength": 1}}, ["streamId"])


def update(settings: Settings) -> dict[str, Any]:
    return body(
        {
            "interval": nullable(interval(settings)),
            "authToken": token("as for start; needs the admin claim"),
            "options": nullable(OPTIONS),
        },
        [],
    )


ACCOUNT = body(
    {
        "cookie": {**COOKIE, "description": "the auth_token value or a whole cookie header"},
        "label": nullable({"type": "string", "maxLength": 100}),
    },
    ["cookie"],
)
