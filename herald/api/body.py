"""Reading JSON bodies the way the seed's clients send them.

The seed's own ``curl -X POST .../stop -d '{"streamId": ...}'`` sends JSON labelled as a
form (curl's default), so bodies are parsed as JSON whatever the Content-Type says.
Bodies larger than ``max_body_bytes`` are refused before they are read in full.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from herald.errors import HeraldError


class PayloadTooLarge(HeraldError):
    code = "payload_too_large"
    status = 413


class InvalidJSON(HeraldError):
    code = "invalid_json"
    status = 400


async def read_json(request: Request, *, limit: int, required: bool = True) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body: {declared} bytes is over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body: over the {limit}-byte limit")
        chunks.append(chunk)
    raw = b"".join(chunks).strip()
    if not raw:
        if required:
            raise InvalidJSON("body: a JSON object is required")
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON(f"body: not valid JSON ({exc.msg} at position {exc.pos})") from exc
    if not isinstance(data, dict):
        raise InvalidJSON("body: must be a JSON object")
    return data


def only(data: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    """Refuse unknown fields, so a typo is an error instead of a silent default."""
    from herald.errors import ValidationError

    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(
            f"{unknown[0]}: unknown field (allowed: {', '.join(sorted(allowed))})"
        )
    return data
