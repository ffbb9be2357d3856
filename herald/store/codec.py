"""Small conversions between Redis replies and Python values, typed once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis.typing import EncodableT, FieldT


def text(value: Any) -> str:
    """A reply value as str, whatever the client's decode setting."""
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def fields(mapping: Mapping[str, Any]) -> dict[FieldT, EncodableT]:
    """Coerce a mapping to what HSET accepts (values as given; None becomes "")."""
    return {k: ("" if v is None else v) for k, v in mapping.items()}


def stream_fields(entry: Any) -> dict[bytes, bytes]:
    """The field map of one XRANGE/XREAD entry (redis-py types it loosely)."""
    return entry[1] if entry and entry[1] is not None else {}
