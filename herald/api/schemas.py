"""Request bodies as the OpenAPI document describes them: the same rules the code applies.

Bodies are read by hand (:mod:`herald.api.body`: any Content-Type, unknown fields refused),
so FastAPI cannot infer them; these schemas state each field's type and bounds, taken
from the same settings and constants the validation uses, so a client (or a fuzzer) that
follows the document is accepted and one that does not gets a 400.
"""

from __future__ import annotations

import json
from typing import Any

from herald.config import Settings
from herald.engine.validation import MAX_COOKIE
from herald.sources.catalog import stream_types
from herald.sources.types import StreamType, StreamTypes

# One line of printable ASCII holding an auth_token: a bare value (no "="), or a cookie
# header with an ``auth_token=<value>`` pair (what herald.engine.validation.cookie checks).
COOKIE_PATTERN = (
    r"^(?:[ -<>-~]*[!-<>-~][ -<>-~]*"
    r"|(?:[ -~]*;)? *auth_token *=[ \"]*[!#-:<-~][ -~]*)$"
)
COOKIE: dict[str, Any] = {"type": "string", "maxLength": MAX_COOKIE, "pattern": COOKIE_PATTERN}


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


def target_help(types: StreamTypes) -> str:
    """One line per type: what its target is, with an example."""
    return "; ".join(
        f"{'/'.join(t.names)}: {t.target.description} (e.g. {t.target.example})" for t in types
    )


def _per_type(spec: StreamType, names: list[str]) -> dict[str, Any]:
    """``type`` is one of ``names``, and target/username/options follow their rules."""
    target: dict[str, Any] = {"type": "string"}
    if spec.target.pattern is not None:
        target["pattern"] = spec.target.pattern
    return {
        "properties": {
            "type": {"enum": names},
            "target": target,
            "username": target,
            "options": nullable(spec.options_json_schema()),
        }
    }


def _rules(types: StreamTypes) -> list[dict[str, Any]]:
    """One branch per distinct (target pattern, options schema), the types that share both
    in one. An ``anyOf`` of branches keyed by ``type`` says what an ``if``/``then`` per type
    says, and stays linear for schema tools as the catalog grows (a dozen ``if``/``then``
    rules already defeat the fuzzer's generator)."""
    groups: dict[str, tuple[StreamType, list[str]]] = {}
    for spec in types:
        key = json.dumps([spec.target.pattern, spec.options_json_schema()], sort_keys=True)
        groups.setdefault(key, (spec, []))[1].extend(spec.names)
    return [_per_type(spec, names) for spec, names in groups.values()]


def options_union(types: StreamTypes) -> dict[str, Any]:
    """Any type's options (PATCH does not name the type; the stream's own rules apply)."""
    distinct: list[dict[str, Any]] = []
    for spec in types:
        schema = spec.options_json_schema()
        if schema not in distinct:
            distinct.append(schema)
    if len(distinct) == 1:
        return distinct[0]
    return {"anyOf": distinct} if distinct else {"type": "object"}


def start(settings: Settings, types: StreamTypes | None = None) -> dict[str, Any]:
    """``type`` from the catalog (names and aliases); ``target`` (or its alias ``username``,
    exactly one of them) and ``options`` checked by the type's own rules."""
    types = types if types is not None else stream_types()
    target_doc = "What to watch, by type: " + target_help(types)
    extra = body(
        {
            "type": {
                "type": "string",
                "enum": list(types.names),
                "description": "; ".join(f"{t.name}: {t.summary}" for t in types),
            },
            "target": {"type": "string", "description": target_doc},
            "username": {
                "type": "string",
                "description": "The seed's name for target (an alias: give one of them)",
            },
            "interval": nullable(interval(settings)),
            "authToken": token(
                "X auth_token cookie (one line of printable ASCII, at most "
                f"{MAX_COOKIE} characters); stored encrypted"
            ),
            "userId": nullable({"type": "string", "maxLength": 200}),
            "options": nullable({"type": "object"}),
        },
        ["type"],
    )
    schema = extra["requestBody"]["content"]["application/json"]["schema"]
    schema["oneOf"] = [
        {"required": ["target"], "not": {"required": ["username"]}},
        {"required": ["username"], "not": {"required": ["target"]}},
    ]
    schema["anyOf"] = _rules(types)
    return extra


def payload_components(types: StreamTypes | None = None) -> dict[str, dict[str, Any]]:
    """The payload schema of each payload key (``TweetPayload``, ``EntryPayload``...)."""
    types = types if types is not None else stream_types()
    out: dict[str, dict[str, Any]] = {}
    for spec in types:
        name = f"{spec.payload_key[:1].upper()}{spec.payload_key[1:]}Payload"
        out.setdefault(
            name,
            {
                **spec.payload_schema,
                "description": f"The {spec.payload_key!r} of a {spec.new_event.value} event",
            },
        )
    return out


STOP = body({"streamId": {"type": "string", "minLength": 1}}, ["streamId"])


def update(settings: Settings) -> dict[str, Any]:
    return body(
        {
            "interval": nullable(interval(settings)),
            "authToken": token("as for start; needs the admin claim"),
            "options": nullable(options_union(stream_types())),
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
