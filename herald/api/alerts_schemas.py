"""The OpenAPI bodies of ``/api/alerts`` and ``/api/silences``: the rules the service applies.

The alerts service validates; these schemas say the same thing to clients (and to the
fuzzer, which sends what they allow and expects it accepted), so the names and bounds come
from :mod:`herald.alerts.base` where it states them.
"""

from __future__ import annotations

from typing import Any

from herald.alerts.base import CONDITIONS, RULE_TYPES
from herald.api.schemas import body, nullable

_SECONDS = {"type": "number", "minimum": 0, "description": "seconds"}
_NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}}
RULE_ID = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
    "description": "letters, digits and _ . : - (up to 64); generated when left out",
}
RULE_PROPERTIES: dict[str, Any] = {
    "id": RULE_ID,
    "type": {
        "type": "string",
        "enum": list(RULE_TYPES),
        "description": "what is measured: average sentiment, engagement, item volume, or "
        "items matching a keyword (keyword rules fire per matching item)",
    },
    "condition": {"type": "string", "enum": list(CONDITIONS)},
    "threshold": {
        "anyOf": [{"type": "number"}, {"type": "string", "minLength": 1}],
        "description": "a number; for keyword rules (condition contains), the text to find",
    },
    "channel": {
        "type": "string",
        "minLength": 1,
        "description": "routes the alert events: a subscription filter and a Socket.IO room",
    },
    "enabled": {"type": "boolean"},
    "window": {**_SECONDS, "description": "seconds of events each evaluation aggregates"},
    "for": {**_SECONDS, "description": "seconds the condition must hold before firing"},
    "keepFiringFor": {**_SECONDS, "description": "seconds a recovered rule keeps firing"},
    "minSamples": {
        "type": "integer",
        "minimum": 0,
        "description": "items a window needs before its aggregate counts",
    },
    "resolveThreshold": nullable(
        {"type": "number", "description": "resolve past this value instead of the threshold"}
    ),
    "scope": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"streams": _NAMES, "platforms": _NAMES, "keywords": _NAMES},
        "description": "which events count; empty or left out: every stream and platform",
    },
}
REQUIRED = ["type", "condition", "threshold"]
DEFAULTED = tuple(name for name in RULE_PROPERTIES if name not in (*REQUIRED, "id"))
"""The fields a replacing PUT resets to their defaults when the body leaves them out."""


def create_rule() -> dict[str, Any]:
    return body(dict(RULE_PROPERTIES), list(REQUIRED))


def replace_rule() -> dict[str, Any]:
    return body(dict(RULE_PROPERTIES), list(REQUIRED))


def update_rule() -> dict[str, Any]:
    return body({k: v for k, v in RULE_PROPERTIES.items() if k != "id"}, [])


_BOUND = {
    "type": "string",
    "minLength": 1,
    "description": "a log offset (1700000000000-0) or an ISO 8601 time",
}
TEST = body(
    {
        "rule": {
            "type": "object",
            "properties": RULE_PROPERTIES,
            "required": REQUIRED,
            "additionalProperties": False,
            "description": "a rule to try, as for POST /api/alerts (or give ruleId)",
        },
        "ruleId": {"type": "string", "minLength": 1, "description": "a stored rule's id"},
        "from": _BOUND,
        "to": _BOUND,
    },
    ["from", "to"],
)
_TEST_SCHEMA = TEST["requestBody"]["content"]["application/json"]["schema"]
_TEST_SCHEMA["oneOf"] = [
    {"required": ["rule"], "not": {"required": ["ruleId"]}},
    {"required": ["ruleId"], "not": {"required": ["rule"]}},
]

_MATCHER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "value"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "description": "a label: ruleId, channel..."},
        "value": {"type": "string"},
        "isRegex": {"type": "boolean", "description": "value is a regular expression"},
    },
}
_TIME = {"type": "string", "format": "date-time"}
SILENCE_PROPERTIES: dict[str, Any] = {
    "matchers": {"type": "array", "items": _MATCHER, "minItems": 1},
    "startsAt": {**_TIME, "description": "when the silence begins (default now)"},
    "endsAt": {**_TIME, "description": "when it ends"},
    "comment": {"type": "string", "maxLength": 1000},
    "createdBy": {"type": "string", "maxLength": 200},
}
SILENCE = body(dict(SILENCE_PROPERTIES), ["matchers", "endsAt"])
