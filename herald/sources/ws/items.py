"""What a matched frame becomes: the ``message``, ``trade`` and ``ticker`` payloads, with
object ids that stay the same when the same frame is seen again."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

from herald.events import EventType
from herald.sources.ws.paths import MISSING
from herald.sources.ws.rules import Rule

MAX_ID = 128
EVENTS: dict[str, EventType] = {
    "message": EventType.MESSAGE_NEW,
    "trade": EventType.TRADE_NEW,
    "ticker": EventType.TICKER_UPDATE,
}


class BadFrame(ValueError):
    """A frame matched a rule but lacks what the rule needs (a trade without a price)."""


def digest(raw: bytes | str) -> str:
    """A frame's stable id when it names none: the same bytes, the same id."""
    data = raw.encode() if isinstance(raw, str) else raw
    return "h" + hashlib.blake2b(data, digest_size=12).hexdigest()


def scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def bounded_id(value: Any) -> str | None:
    """A frame's id as text: scalars as written, anything longer than 128 characters (or
    an object) by its digest, so every eventId stays short."""
    text = scalar_text(value)
    if text is None:
        if value is MISSING or value is None:
            return None
        return digest(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    return text if len(text) <= MAX_ID else digest(text)


def epoch(value: Any) -> float | None:
    """Seconds since the epoch from a number (s, ms, µs or ns, told by its size) or an ISO
    8601 string; None when it is neither."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            try:
                return datetime.fromisoformat(value).timestamp()
            except ValueError:
                return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    for floor, per_second in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
        if abs(number) >= floor:
            return number / per_second
    return number


def iso(value: Any, fallback: float | None = None) -> tuple[str, float] | None:
    """The time as ISO 8601 (an ISO string stays as the upstream wrote it) and as epoch."""
    seconds = epoch(value)
    if seconds is None:
        if fallback is None:
            return None
        seconds, value = fallback, None
    if isinstance(value, str) and not _numeric(value):
        return value, seconds
    try:
        stamp = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"), seconds


def _numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def build(
    rule: Rule, frame: Any, raw: bytes | str, exchange: str | None, received: float
) -> tuple[str, dict[str, Any], float | None]:
    """``(object id, payload, upstream time)`` of a frame ``rule`` matched."""
    values = {name: path.get(frame) for name, path in rule.fields.items()}
    if rule.event == "message":
        data = values.get("data", MISSING)
        ident = bounded_id(values.get("id", MISSING)) or digest(raw)
        message: dict[str, Any] = {"id": ident, "data": frame if data is MISSING else data}
        when = iso(values.get("time", MISSING))
        if when is not None:
            message["time"] = when[0]
        text = scalar_text(values.get("text", MISSING))
        if text is not None:
            message["text"] = text
        return ident, {"message": message}, when[1] if when else None
    symbol = scalar_text(values.get("symbol"))
    if not symbol:
        raise BadFrame(f"a {rule.event} frame without a symbol")
    upstream = iso(values.get("time", MISSING))
    when = upstream or iso(None, received)
    assert when is not None
    item: dict[str, Any] = {}
    for name in rule.fields:
        if name in ("symbol", "time", "id"):
            continue
        text = scalar_text(values[name])
        if text is None and rule.event == "trade":
            raise BadFrame(f"a trade frame of {symbol} without its {name}")
        if text is not None:
            item[name] = text
    ident = bounded_id(values.get("id", MISSING)) or digest(raw)
    if rule.event == "trade":
        payload = {"id": ident, "symbol": symbol, **item}
        found = rule.side.get(frame) if rule.side else MISSING
        side = rule.sides.get(orjson.dumps(found).decode()) if found is not MISSING else None
        if side is not None:
            payload["side"] = side
    else:
        payload = {"symbol": symbol, **item}
    payload["time"] = when[0]
    if exchange:
        payload["exchange"] = exchange
    return f"{symbol}:{ident}", {rule.event: payload}, upstream[1] if upstream else None
