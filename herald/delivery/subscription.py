"""What a client asks for, validated once by one model on every transport.

A query is ``{streamIds?, types?, platforms?, sentiment?, channels?, filters?, since?}``,
plus ``limit?`` and ``wait?`` where the client pulls (``GET /api/events/log``, MCP's
``x_stream_events``). Socket.IO, ``/ws``, SSE, the pull route, MCP and ``herald tail`` all
parse it with :func:`parse_query`, so the same bad query gets the same error text
everywhere. The rules:

- an event type is a known name (``stream:tweet:new``) or its shorthand without ``stream:``
  (``tweet:new``); a platform is one the catalog knows (``x``, ``rss``...); a filter name is
  one :mod:`herald.delivery.filters` knows. Anything else is refused with the known names,
  never accepted as a subscription that silently matches nothing;
- ``sentiment`` and ``channels`` are filters (``filters.sentiment``, ``filters.channels``)
  that may also be given at the top level, as ``platforms`` may be given inside ``filters``;
- ``since`` is a log offset (``1700000000000-0``, or ``ms`` alone); ``$`` or nothing means
  "from now";
- ``replay`` (push transports) is ``{from, to?, speed?}``: ``from``/``to`` a log offset or
  an ISO 8601 time, ``speed`` ``realtime``, ``xN`` or ``max`` (the default). A replay sends
  that range and ends; it never turns into a live subscription.

A :class:`Selector` is the part that decides which events match (streams, types, platforms,
filter); its :attr:`Selector.key` is what clients are grouped by. ``since``, ``limit`` and
``wait`` say where and how to read and are not part of the group.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from herald.auth import Principal
from herald.delivery.filters import Filter, in_rooms, lift_filters, parse_filter, sentiment_param
from herald.errors import Forbidden, ValidationError
from herald.events import EVENT_TYPES
from herald.store.logentry import Entry, OffsetKey, is_offset, offset_key

MAX_STREAM_IDS = 1000
MAX_LIMIT = 1000
MAX_WAIT = 60.0
DEFAULT_LIMIT = 100
#: An event without a ``platform`` field comes from X (events appended before it existed).
DEFAULT_PLATFORM = "x"
_NAME = re.compile(r"^[A-Za-z0-9:_.\-]{1,128}$")
_COMMON_FIELDS = ("streamIds", "types", "platforms", "sentiment", "channels", "filters", "since")
_PUSH_FIELDS = (*_COMMON_FIELDS, "replay")
_PULL_FIELDS = (*_COMMON_FIELDS, "limit", "wait")
_REPLAY_FIELDS = ("from", "to", "speed")
#: The largest sequence number of a log offset: ``(ms, MAX_SEQ)`` is the last key of ``ms``.
MAX_SEQ = 2**64 - 1
_NOW = ("", "$")


#: The platform of herald's own events (pipeline outputs, alerts): selectable like any other.
HERALD_PLATFORM = "herald"


def known_platforms() -> tuple[str, ...]:
    """Every platform the catalog has stream types for, and herald's own, sorted."""
    from herald.sources.catalog import stream_types  # the catalog imports every platform

    return tuple(sorted({t.platform for t in stream_types()} | {HERALD_PLATFORM}))


def platform_of(body: Mapping[str, Any]) -> str:
    value = body.get("platform")
    return value if isinstance(value, str) and value else DEFAULT_PLATFORM


@dataclass(frozen=True, slots=True)
class Selector:
    """Which events a subscription receives; ``None`` means "any".

    ``rooms`` (Socket.IO ``join``) adds the events routed to those channels (their
    ``channel``) whatever the types, platforms and filters say, within its streams."""

    stream_ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    filter: Filter | None = None
    platforms: frozenset[str] | None = None
    rooms: frozenset[str] | None = None

    @property
    def key(self) -> str:
        streams = ",".join(sorted(self.stream_ids)) if self.stream_ids is not None else "*"
        types = ",".join(sorted(self.types)) if self.types is not None else "*"
        # Platforms only when asked for (a filter key is JSON, so it never starts with "@").
        platforms = f"@{','.join(sorted(self.platforms))}|" if self.platforms is not None else ""
        rooms = f"|rooms={orjson.dumps(sorted(self.rooms)).decode()}" if self.rooms else ""
        return f"{streams}|{types}|{platforms}{self.filter.key if self.filter else ''}{rooms}"

    def describe(self) -> dict[str, Any]:
        """What the selector asks for, as JSON (``null`` fields mean "any")."""
        out = {
            "streamIds": sorted(self.stream_ids) if self.stream_ids is not None else None,
            "types": sorted(self.types) if self.types is not None else None,
            "platforms": sorted(self.platforms) if self.platforms is not None else None,
            "filters": orjson.loads(self.filter.key) if self.filter is not None else None,
        }
        if self.rooms:
            out["rooms"] = sorted(self.rooms)
        return out

    def matches(self, entry: Entry) -> bool:
        if self.stream_ids is not None and entry.stream_id not in self.stream_ids:
            return False
        if self.rooms and in_rooms(entry, self.rooms):
            return True
        if self.types is not None and entry.type not in self.types:
            return False
        if self.platforms is not None and platform_of(entry.body) not in self.platforms:
            return False
        return self.filter is None or self.filter(entry.body)


@dataclass(frozen=True, slots=True)
class Bound:
    """One end of a replay range: a log offset, or a time in milliseconds."""

    offset: str | None = None
    ms: int | None = None

    def low(self) -> OffsetKey:
        """The smallest key at or after this bound."""
        return offset_key(self.offset) if self.offset is not None else (self.ms or 0, 0)

    def high(self) -> OffsetKey:
        """The largest key at or before this bound (a time takes its whole millisecond)."""
        return offset_key(self.offset) if self.offset is not None else (self.ms or 0, MAX_SEQ)

    def describe(self) -> str:
        return self.offset if self.offset is not None else f"{self.ms}"


@dataclass(frozen=True, slots=True)
class ReplayRange:
    """``replay: {from, to?, speed?}``: a part of the log, inclusive at both ends, paced
    ``speed`` times real time (``inf``: as fast as the client reads). ``to=None`` means
    "up to the newest entry when the subscription starts"."""

    start: Bound
    end: Bound | None = None
    speed: float = math.inf


@dataclass(frozen=True, slots=True)
class Query:
    """A validated query: which events (:attr:`selector`), from where, and for pulls how
    many and how long to wait. ``since=None`` means "from now"."""

    selector: Selector
    since: str | None = None
    limit: int = DEFAULT_LIMIT
    wait: float = 0.0
    #: A replay subscription (push transports only): that range, then an end marker.
    replay: ReplayRange | None = None

    def params(self) -> dict[str, Any]:
        """The query as ``GET /api/events/log`` parameters (parsing them gives it back)."""
        sel = self.selector
        out: dict[str, Any] = {"limit": self.limit, "wait": self.wait}
        if self.since is not None:
            out["since"] = self.since
        for name, values in (
            ("streamIds", sel.stream_ids),
            ("types", sel.types),
            ("platforms", sel.platforms),
        ):
            if values is not None:
                out[name] = ",".join(sorted(values))
        if sel.filter is not None:
            out["filters"] = sel.filter.key
        return out


#: The name the push transports know it by.
Subscription = Query


def _names(value: Any, name: str, limit: int) -> frozenset[str]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{name}: must be a list of strings")
    if len(value) > limit:
        raise ValidationError(f"{name}: has more than {limit} entries")
    for v in value:
        if not _NAME.match(v):
            raise ValidationError(f"{name}: contains an invalid value: {v[:64]!r}")
    return frozenset(value)


def event_types(names: frozenset[str] | list[str], field: str = "types") -> frozenset[str]:
    """Full event type names for ``names``; an unknown one is refused, naming the known ones."""
    out: set[str] = set()
    for name in sorted(names):
        full = name if name in EVENT_TYPES else f"stream:{name}"
        if full not in EVENT_TYPES:
            raise ValidationError(
                f"{field}: unknown event type {name[:64]!r}; known: {', '.join(EVENT_TYPES)} "
                "(the 'stream:' prefix may be left out)"
            )
        out.add(full)
    return frozenset(out)


def platforms(names: frozenset[str], field: str = "platforms") -> frozenset[str]:
    """``names`` if every one is a known platform; else refused, naming the known ones."""
    known = known_platforms()
    for name in sorted(names):
        if name not in known:
            raise ValidationError(
                f"{field}: unknown platform {name[:64]!r}; known: {', '.join(known)}"
            )
    return names


def restrict(stream_ids: frozenset[str] | None, principal: Principal) -> frozenset[str] | None:
    """Narrow a stream set to what the principal may see; asking for more is refused."""
    allowed = principal.streams
    if allowed is None:
        return stream_ids
    if stream_ids is None:
        return allowed
    extra = sorted(stream_ids - allowed)
    if extra:
        raise Forbidden(f"streamIds: not permitted by your token: {', '.join(extra[:5])}")
    return stream_ids


def parse_query(raw: Any, principal: Principal | None = None, *, pull: bool = False) -> Query:
    """Validate a query; errors name the offending field (``field: rule``).

    ``pull`` admits ``limit`` and ``wait``. ``principal`` narrows the streams to those its
    token may see (``None``: no narrowing, for callers that check access themselves).
    """
    fields = _PULL_FIELDS if pull else _PUSH_FIELDS
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError(f"payload must be an object {{{'?, '.join(fields)}?}}")
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ValidationError(f"{unknown[0][:64]} is not a known field; known: {', '.join(fields)}")
    stream_ids = None
    if raw.get("streamIds") is not None:
        stream_ids = _names(raw["streamIds"], "streamIds", MAX_STREAM_IDS)
    types = None
    if raw.get("types") is not None:
        types = event_types(_names(raw["types"], "types", 64))
    filters, wanted = _lift_platforms(lift_filters(raw), raw.get("platforms"))
    chosen = None if wanted is None else platforms(_names(wanted, "platforms", 64))
    since = _since(raw.get("since"))
    selector = Selector(stream_ids, types, parse_filter(filters), chosen)
    if principal is not None:
        selector = narrowed(selector, principal)
    if not pull:
        replay = _replay(raw.get("replay"))
        if replay is not None and since is not None:
            raise ValidationError("replay: cannot be combined with since (it has its own from)")
        return Query(selector, since, replay=replay)
    return Query(selector, since, _limit(raw.get("limit")), _wait(raw.get("wait")))


def parse_subscription(raw: Any, principal: Principal) -> Query:
    """A push subscription (Socket.IO, ``/ws``, SSE): :func:`parse_query` without a limit."""
    return parse_query(raw, principal)


def narrowed(selector: Selector, principal: Principal) -> Selector:
    """``selector`` within what ``principal`` may see (asking for more is refused)."""
    stream_ids = restrict(selector.stream_ids, principal)
    if stream_ids is selector.stream_ids:
        return selector
    return Selector(stream_ids, selector.types, selector.filter, selector.platforms, selector.rooms)


def compat_selector(principal: Principal) -> Selector:
    """What a client that never subscribes receives: everything it is allowed to see."""
    return Selector(stream_ids=principal.streams)


def _lift_platforms(filters: Any, top: Any) -> tuple[Any, Any]:
    """``filters.platforms`` is accepted as a spelling of the top-level ``platforms``."""
    if not isinstance(filters, dict) or "platforms" not in filters:
        return filters, top
    inner = filters["platforms"]
    if top is not None and inner is not None and top != inner:
        raise ValidationError(
            "platforms: given twice (top level and in filters) with different values"
        )
    rest = {k: v for k, v in filters.items() if k != "platforms"}
    return rest, top if top is not None else inner


def _since(value: Any) -> str | None:
    if value is None or value in _NOW:
        return None
    if not is_offset(value):
        shown = repr(value[:64]) if isinstance(value, str) else type(value).__name__
        raise ValidationError(
            f'since: {shown} is not a log offset such as "1700000000000-0" ("$": from now)'
        )
    return str(value)


def _bound(value: Any, name: str) -> Bound:
    if isinstance(value, str) and is_offset(value):
        return Bound(offset=value if "-" in value else f"{value}-0")
    if isinstance(value, str) and value.strip() and not value.strip().isdigit():
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return Bound(ms=max(int(when.timestamp() * 1000), 0))
    shown = repr(value[:64]) if isinstance(value, str) else type(value).__name__
    raise ValidationError(
        f'replay.{name}: {shown} is not a log offset such as "1700000000000-0" '
        'or an ISO 8601 time such as "2026-11-30T03:00:00Z"'
    )


def _replay(value: Any) -> ReplayRange | None:
    """``replay: {from, to?, speed?}``; ``from`` after ``to`` is refused."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError("replay: must be an object {from, to?, speed?}")
    unknown = sorted(set(value) - set(_REPLAY_FIELDS))
    if unknown:
        raise ValidationError(
            f"replay.{unknown[0][:64]} is not a known field; known: {', '.join(_REPLAY_FIELDS)}"
        )
    if value.get("from") is None:
        raise ValidationError("replay.from: is required (a log offset or an ISO 8601 time)")
    start = _bound(value["from"], "from")
    end = _bound(value["to"], "to") if value.get("to") is not None else None
    if end is not None and start.low() > end.high():
        raise ValidationError(f"replay: from ({start.describe()}) is after to ({end.describe()})")
    from herald.pipeline.runtime.replay import parse_speed  # pure; no import at load time

    raw_speed = value.get("speed")
    if isinstance(raw_speed, bool) or not isinstance(raw_speed, str | int | float | None):
        raise ValidationError("replay.speed: must be realtime, max or xN such as x10")
    try:
        speed = parse_speed(raw_speed)
    except ValidationError as exc:
        raise ValidationError(f"replay.{exc.detail}") from None
    return ReplayRange(start, end, speed)


def _limit(value: Any) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise ValidationError(f"limit: must be a whole number from 1 to {MAX_LIMIT}")
    return value


def _wait(value: Any) -> float:
    if value is None:
        return 0.0
    try:
        seconds = float(value) if not isinstance(value, bool) else -1.0
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 <= seconds <= MAX_WAIT:  # also refuses NaN
        raise ValidationError(f"wait: must be from 0 to {MAX_WAIT:g} seconds")
    return seconds


class Params(Protocol):
    """URL query parameters (Starlette's ``QueryParams``)."""

    def getlist(self, key: str) -> list[str]: ...
    def get(self, key: str, /) -> str | None: ...


def raw_from_params(params: Params, *, pull: bool) -> dict[str, Any]:
    """A query's raw form from URL parameters: lists comma-separated or repeated,
    ``filters`` as JSON. What :func:`parse_query` then validates, as for a JSON payload."""
    raw: dict[str, Any] = {}
    for name in ("streamIds", "types", "platforms"):
        values = [v for item in params.getlist(name) for v in item.split(",") if v]
        if values:
            raw[name] = values
    names = ("since", "limit", "wait") if pull else ("since",)
    for name in names:
        value = params.get(name)
        if value is not None:
            raw[name] = value
    replay = None if pull else params.get("replay")
    if replay:
        try:
            raw["replay"] = orjson.loads(replay)
        except orjson.JSONDecodeError:
            raise ValidationError("replay: must be a JSON object {from, to?, speed?}") from None
    filters = params.get("filters")
    if filters:
        try:
            raw["filters"] = orjson.loads(filters)
        except orjson.JSONDecodeError:
            raise ValidationError("filters: must be a JSON object") from None
    channels = [v for item in params.getlist("channels") for v in item.split(",") if v]
    if channels:
        raw["channels"] = channels
    sentiment = params.get("sentiment")
    if sentiment:
        raw["sentiment"] = sentiment_param(sentiment)
    return raw
