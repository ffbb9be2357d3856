"""Input rules for streams. Each failure names the field and the rule it broke."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from herald.errors import ValidationError

USERNAME_RULE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_BLANKS = " \t\n\r"
USERNAME_PATTERN = r"^[ \t\n\r]*@?[A-Za-z0-9_]{1,15}[ \t\n\r]*$"
"""What :func:`username` accepts, for the OpenAPI document."""
KNOWN_OPTIONS = {"followerSnapshotLimit"}


def username(value: object) -> str:
    """X's rule: 1 to 15 letters, digits or underscores; a leading @ is dropped."""
    if not isinstance(value, str):
        raise ValidationError("username: must be a string")
    name = value.strip(_BLANKS).removeprefix("@")
    if not USERNAME_RULE.match(name):
        raise ValidationError(
            f"username: {value!r} is not a valid X username (1-15 letters, digits or underscores)"
        )
    return name


def target(
    validate: Callable[[object], str], *, target: object = None, username: object = None
) -> str:
    """A stream's target, given as ``target`` or as the seed's ``username`` (its alias).

    Both may be given when they say the same thing (after the type's own normalisation,
    so ``@nasa`` and ``nasa`` agree); absent both, or different, is refused.
    """
    if target is None and username is None:
        raise ValidationError("target: required (or username, its alias)")
    if target is None:
        return _as_field(validate, username, "username")
    normalised = _as_field(validate, target, "target")
    if username is not None and _quiet(validate, username) != normalised:
        raise ValidationError(
            f"username: is an alias of target and must match it (target {target!r}, "
            f"username {username!r}); give one of them"
        )
    return normalised


def _as_field(validate: Callable[[object], str], value: object, name: str) -> str:
    """``validate(value)``, its refusal naming the field the client actually sent."""
    try:
        return validate(value)
    except ValidationError as exc:
        field_, sep, rule = exc.detail.partition(":")
        if sep and field_ in ("target", "username"):
            raise ValidationError(f"{name}:{rule}") from None
        raise


def _quiet(validate: Callable[[object], str], value: object) -> str | None:
    try:
        return validate(value)
    except ValidationError:
        return None


def stream_type(value: object, known: tuple[str, ...]) -> str:
    """One of ``known`` (the served types and their aliases)."""
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


def options_object(value: object) -> Mapping[str, Any]:
    """``options`` as sent: absent is empty; anything but an object is refused."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("options: must be an object")
    return value


def options(value: object) -> dict[str, Any]:
    """X's options."""
    value = options_object(value)
    unknown = set(value) - KNOWN_OPTIONS
    if unknown:
        raise ValidationError(
            f"options: unknown option(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(KNOWN_OPTIONS))})"
        )
    out: dict[str, Any] = {}
    if "followerSnapshotLimit" in value:
        limit = value["followerSnapshotLimit"]
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)  # JSON's 29.0 is the whole number 29
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 100_000:
            raise ValidationError(
                "options.followerSnapshotLimit: must be a whole number from 0 to 100000"
            )
        out["followerSnapshotLimit"] = limit
    return out


MAX_COOKIE = 4096
"""Characters in a session cookie: X's auth_token is 40, a full cookie header about 1.5 KB."""


def cookie(value: object, *, field: str) -> str:
    """An X session cookie as HTTP can carry it: one line of printable ASCII, bounded.

    Anything else could never be sent in a Cookie header (httpx refuses it), so it would
    only poison the account pool; it is refused here, naming ``field``.
    """
    rule = f"one line of printable ASCII, at most {MAX_COOKIE} characters"
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field}: required, the auth_token value or a cookie header")
    if len(value) > MAX_COOKIE:
        raise ValidationError(f"{field}: {len(value)} characters is too long ({rule})")
    if not all(" " <= c <= "~" for c in value):
        raise ValidationError(f"{field}: must be {rule}")
    text = value.strip(" ")
    if "=" in text and not _has_auth_token(text):
        raise ValidationError(f"{field}: a cookie header must hold an auth_token=... pair")
    return text


def _has_auth_token(header: str) -> bool:
    for part in header.split(";"):
        name, _, val = part.partition("=")
        if name.strip() == "auth_token" and val.strip().strip('"'):
            return True
    return False


def auth_token(value: object) -> str | None:
    """A stream's optional ``authToken``: absent or empty means the shared accounts."""
    if value is None or value == "":
        return None
    return cookie(value, field="authToken")


def history_limit(value: object, *, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ValidationError(f"limit: must be a whole number from 1 to {maximum}")
    return value
