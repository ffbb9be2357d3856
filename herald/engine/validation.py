"""Input rules for streams. Each failure names the field and the rule it broke."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from herald.errors import ValidationError

USERNAME_RULE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
KNOWN_OPTIONS = {"followerSnapshotLimit"}


def username(value: object) -> str:
    """X's rule: 1 to 15 letters, digits or underscores; a leading @ is dropped."""
    if not isinstance(value, str):
        raise ValidationError("username: must be a string")
    name = value.strip().removeprefix("@")
    if not USERNAME_RULE.match(name):
        raise ValidationError(
            f"username: {value!r} is not a valid X username (1-15 letters, digits or underscores)"
        )
    return name


def stream_type(value: object, known: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in known:
        raise ValidationError(f"type: must be one of {', '.join(known)} (got {value!r})")
    return value


def interval(value: object, *, minimum: float, maximum: float, default: float) -> float:
    """Seconds, within [minimum, maximum]."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"interval: must be a number of seconds (got {value!r})")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < minimum or seconds > maximum:
        raise ValidationError(
            f"interval: must be between {minimum:g} and {maximum:g} seconds (got {value!r})"
        )
    return seconds


def options(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("options: must be an object")
    unknown = set(value) - KNOWN_OPTIONS
    if unknown:
        raise ValidationError(
            f"options: unknown option(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(KNOWN_OPTIONS))})"
        )
    out: dict[str, Any] = {}
    if "followerSnapshotLimit" in value:
        limit = value["followerSnapshotLimit"]
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 100_000:
            raise ValidationError(
                "options.followerSnapshotLimit: must be a whole number from 0 to 100000"
            )
        out["followerSnapshotLimit"] = limit
    return out


def auth_token(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 4096 or any(ord(c) < 32 for c in value):
        raise ValidationError("authToken: must be a cookie value on one line (at most 4096 chars)")
    return value


def history_limit(value: object, *, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ValidationError(f"limit: must be a whole number from 1 to {maximum}")
    return value
