"""What a client asks for: ``{streamIds?, types?, filters?, since?}``, validated once.

One rule on every transport (Socket.IO, ``/ws``, SSE, ``/api/events/log``, MCP): an event
type is a known name (``stream:tweet:new``) or its shorthand without ``stream:``
(``tweet:new``); anything else is refused with the known names, never accepted as a
subscription that silently matches nothing.

A :class:`Selector` is the part that decides which events match (streams, types, filter);
its :attr:`Selector.key` is what clients are grouped by. ``since`` is where the replay
starts and is not part of the group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from herald.auth import Principal
from herald.delivery.entry import Entry, is_offset
from herald.delivery.filters import Filter, parse_filter
from herald.errors import Forbidden, ValidationError
from herald.events import EVENT_TYPES

MAX_STREAM_IDS = 1000
_NAME = re.compile(r"^[A-Za-z0-9:_.\-]{1,128}$")
_FIELDS = frozenset({"streamIds", "types", "filters", "since"})


@dataclass(frozen=True, slots=True)
class Selector:
    """Which events a subscription receives; ``None`` means "any"."""

    stream_ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    filter: Filter | None = None

    @property
    def key(self) -> str:
        streams = ",".join(sorted(self.stream_ids)) if self.stream_ids is not None else "*"
        types = ",".join(sorted(self.types)) if self.types is not None else "*"
        return f"{streams}|{types}|{self.filter.key if self.filter else ''}"

    def describe(self) -> dict[str, Any]:
        """What the selector asks for, as JSON (``null`` fields mean "any")."""
        return {
            "streamIds": sorted(self.stream_ids) if self.stream_ids is not None else None,
            "types": sorted(self.types) if self.types is not None else None,
            "filters": orjson.loads(self.filter.key) if self.filter is not None else None,
        }

    def matches(self, entry: Entry) -> bool:
        if self.stream_ids is not None and entry.stream_id not in self.stream_ids:
            return False
        if self.types is not None and entry.type not in self.types:
            return False
        return self.filter is None or self.filter(entry.body)


@dataclass(frozen=True, slots=True)
class Subscription:
    selector: Selector
    since: str | None = None


def _names(value: Any, name: str, limit: int) -> frozenset[str]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{name} must be a list of strings")
    if len(value) > limit:
        raise ValidationError(f"{name} has more than {limit} entries")
    for v in value:
        if not _NAME.match(v):
            raise ValidationError(f"{name} contains an invalid value: {v[:64]!r}")
    return frozenset(value)


def event_types(names: frozenset[str] | list[str], field: str = "types") -> frozenset[str]:
    """Full event type names for ``names``; an unknown one is refused, naming the known ones."""
    out: set[str] = set()
    for name in names:
        full = name if name in EVENT_TYPES else f"stream:{name}"
        if full not in EVENT_TYPES:
            raise ValidationError(
                f"{field}: unknown event type {name[:64]!r}; known: {', '.join(EVENT_TYPES)} "
                "(the 'stream:' prefix may be left out)"
            )
        out.add(full)
    return frozenset(out)


def restrict(stream_ids: frozenset[str] | None, principal: Principal) -> frozenset[str] | None:
    """Narrow a stream set to what the principal may see; asking for more is refused."""
    allowed = principal.streams
    if allowed is None:
        return stream_ids
    if stream_ids is None:
        return allowed
    extra = sorted(stream_ids - allowed)
    if extra:
        raise Forbidden(f"streamIds not permitted by your token: {', '.join(extra[:5])}")
    return stream_ids


def parse_subscription(raw: Any, principal: Principal) -> Subscription:
    """Validate a subscription request; errors name the offending field."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError("payload must be an object {streamIds?, types?, filters?, since?}")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise ValidationError(f"{unknown[0]} is not a known field")
    stream_ids = None
    if raw.get("streamIds") is not None:
        stream_ids = _names(raw["streamIds"], "streamIds", MAX_STREAM_IDS)
    types = None
    if raw.get("types") is not None:
        types = event_types(_names(raw["types"], "types", 64))
    since = raw.get("since")
    if since is not None and not is_offset(since):
        raise ValidationError('since must be a log offset such as "1700000000000-0"')
    selector = Selector(restrict(stream_ids, principal), types, parse_filter(raw.get("filters")))
    return Subscription(selector, since)


def compat_selector(principal: Principal) -> Selector:
    """What a client that never subscribes receives: everything it is allowed to see."""
    return Selector(stream_ids=principal.streams)
