"""The OpenAPI bodies of ``/api/alerts`` and ``/api/silences``: the rules the service applies.

The alerts service (:mod:`herald.alerts.model`) validates; these schemas say the same thing
to clients, from the same constants. Where JSON Schema cannot say it (a resolve threshold on
the right side of the threshold, a silence that ends in the future, ``to`` not before
``from``) the description does, and the service refuses with the field named.
"""

from __future__ import annotations

from typing import Any

from herald.alerts.base import CONDITIONS, RULE_TYPES
from herald.alerts.model import ENGAGEMENT_METRICS, GROUP_LABELS, RETENTION, SCOPE_FIELDS
from herald.api.schemas import body, nullable

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
# A duration as the service reads it: seconds, or a number with ms, s, m, h or d.
DURATION_PATTERN = r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$"
READ_ONLY = ("status", "createdAt", "updatedAt")
"""What an answered rule carries that a body may hold and the server ignores."""
_TEXT = r"\S"  # not blank


def duration(low: float, high: float, what: str) -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "number", "minimum": low, "maximum": high},
            {"type": "string", "pattern": DURATION_PATTERN},
        ],
        "description": f"{what}: seconds ({low:g} to {high:g}), or a string such as 30s, 5m, 1h",
    }


def _names(what: str) -> dict[str, Any]:
    item = {"type": "string", "pattern": _TEXT}
    return {
        "anyOf": [{"type": "array", "items": item, "maxItems": 1000}, item, {"type": "null"}],
        "description": what,
    }


RULE_PROPERTIES: dict[str, Any] = {
    "id": nullable(
        {
            "type": "string",
            "pattern": ID_PATTERN,
            "description": "1-64 letters, digits, _ . - (a letter or digit first); "
            "generated when left out",
        }
    ),
    "name": nullable({"type": "string", "maxLength": 500}),
    "description": nullable({"type": "string", "maxLength": 500}),
    "type": {
        "type": "string",
        "enum": list(RULE_TYPES),
        "description": "what is measured: mean sentiment, engagement, item volume, or items "
        "containing a text (keyword rules fire per matching item)",
    },
    "condition": {
        "type": "string",
        "enum": list(CONDITIONS),
        "description": "above, below or equals; contains for keyword rules, and only for them",
    },
    "threshold": {
        "anyOf": [{"type": "number"}, {"type": "string", "pattern": _TEXT, "maxLength": 200}],
        "description": "a number (a compound score from -1 to 1 for sentiment); the text to "
        "find for keyword rules",
    },
    "channel": {
        "type": "string",
        "pattern": ID_PATTERN,
        "description": "routes the alert events: a subscription filter and a Socket.IO room",
    },
    "enabled": {"type": "boolean"},
    "window": duration(1, 86_400, "each evaluation window"),
    "for": duration(0, RETENTION, "how long the condition holds before firing"),
    "keepFiringFor": duration(0, RETENTION, "how long a recovered alert keeps firing"),
    "repeatInterval": duration(0, RETENTION, "the least time between two notified firings"),
    "minSamples": {
        "type": "integer",
        "minimum": 0,
        "maximum": 1_000_000,
        "description": "samples a window needs before its aggregate counts",
    },
    "resolveThreshold": nullable(
        {
            "type": "number",
            "description": "above/below rules: resolve only past this value (not above the "
            "threshold of an above rule, not below that of a below rule)",
        }
    ),
    "scope": nullable(
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: _names(f"only these {name}") for name in SCOPE_FIELDS},
            "description": "which items count; left out or empty: every one",
        }
    ),
    "groupBy": {
        "anyOf": [
            {"type": "array", "items": {"type": "string", "enum": list(GROUP_LABELS)}},
            {"type": "string", "enum": list(GROUP_LABELS)},
            {"type": "null"},
        ],
        "description": "one alert per stream and/or platform (not for keyword rules)",
    },
    "priority": {"type": "integer", "enum": [0, 1, 2, 3], "description": "0 low ... 3 critical"},
    "baseline": nullable(
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["k"],
            "properties": {
                "k": {"type": "number", "exclusiveMinimum": 0},
                "minWindows": {"type": "integer", "minimum": 2, "maximum": 10_000},
            },
            "description": "above/below rules: k standard deviations over the last 7 days",
        }
    ),
    "metric": nullable({"type": "string", "enum": list(ENGAGEMENT_METRICS)}),
    "labels": nullable(
        {
            "type": "object",
            "maxProperties": 20,
            "propertyNames": {"minLength": 1},
            "additionalProperties": {"type": "string"},
        }
    ),
    **{name: {"description": "read-only (an answer's): ignored"} for name in READ_ONLY},
}
REQUIRED = ["type", "condition", "threshold"]

_KEYWORD = {"properties": {"type": {"const": "keyword"}}, "required": ["type"]}
# keyword <=> contains; the threshold's kind and range by type; what only some types take.
CROSS_FIELD: list[dict[str, Any]] = [
    {
        "if": _KEYWORD,
        "then": {
            "properties": {
                "condition": {"const": "contains"},
                "threshold": {"type": "string"},
                "resolveThreshold": {"type": "null"},
                "baseline": {"type": "null"},
                "groupBy": {"anyOf": [{"type": "array", "maxItems": 0}, {"type": "null"}]},
            }
        },
        "else": {
            "properties": {
                "condition": {"enum": ["above", "below", "equals"]},
                "threshold": {"type": "number"},
            }
        },
    },
    {
        "if": {"properties": {"type": {"const": "sentiment"}}, "required": ["type"]},
        "then": {"properties": {"threshold": {"minimum": -1, "maximum": 1}}},
    },
    {
        "if": {"properties": {"type": {"const": "engagement"}}, "required": ["type"]},
        "else": {"properties": {"metric": {"type": "null"}}},
    },
    {
        "if": {"properties": {"condition": {"const": "equals"}}, "required": ["condition"]},
        "then": {
            "properties": {"resolveThreshold": {"type": "null"}, "baseline": {"type": "null"}}
        },
    },
]


def _whole_rule(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": RULE_PROPERTIES,
        "additionalProperties": False,
        "required": REQUIRED,
        "allOf": CROSS_FIELD,
        "description": description,
    }


def create_rule() -> dict[str, Any]:
    extra = body(dict(RULE_PROPERTIES), list(REQUIRED))
    extra["requestBody"]["content"]["application/json"]["schema"]["allOf"] = CROSS_FIELD
    return extra


def replace_rule() -> dict[str, Any]:
    """A whole rule; a rule read with GET may be sent back as is (its answer's read-only
    fields are ignored)."""
    return create_rule()


def update_rule() -> dict[str, Any]:
    """Any rule fields: the merged rule is checked as a whole by the service."""
    return body({k: v for k, v in RULE_PROPERTIES.items() if k != "id"}, [])


_BOUND = {
    "type": "string",
    "minLength": 1,
    "description": "a log offset (1700000000000-0), an ISO 8601 time, epoch seconds, or a "
    "time ago (24h); to must not be before from",
}
TEST = body(
    {
        "rule": _whole_rule("a rule to try, as for POST /api/alerts (or give ruleId)"),
        "ruleId": {"type": "string", "minLength": 1, "description": "a stored rule's id"},
        "from": _BOUND,
        "to": _BOUND,
    },
    ["from", "to"],
)
TEST["requestBody"]["content"]["application/json"]["schema"]["oneOf"] = [
    {"required": ["rule"], "not": {"required": ["ruleId"]}},
    {"required": ["ruleId"], "not": {"required": ["rule"]}},
]

_MATCHER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "value"],
    "properties": {
        "name": {
            "type": "string",
            "minLength": 1,
            "description": "a label: ruleId, channel, type, streamId, platform, item, or a "
            "rule's own label",
        },
        "value": {"type": "string", "maxLength": 500},
        "isRegex": {"type": "boolean", "description": "value is a full-match regex"},
    },
}
_TIME = {
    "anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}],
    "description": "an ISO 8601 time or epoch seconds",
}
SILENCE_PROPERTIES: dict[str, Any] = {
    "matchers": {"type": "array", "items": _MATCHER, "minItems": 1, "maxItems": 20},
    "startsAt": nullable({**_TIME, "description": "when it begins (default now)"}),
    "endsAt": {**_TIME, "description": "when it ends: after startsAt, in the future"},
    "comment": {"type": "string", "maxLength": 1000},
    "createdBy": nullable({"type": "string", "maxLength": 200}),
}
SILENCE = body(dict(SILENCE_PROPERTIES), ["matchers", "endsAt"])
