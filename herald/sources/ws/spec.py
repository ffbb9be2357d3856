"""A ``ws:feed`` stream's target and options, checked at start, and the compiled
:class:`FeedSpec` the source runs: the URL it opens, what it sends, its rules and limits.

Everything a user can get wrong is refused here with the option's name (a bad path, an
unknown channel, too many streams); nothing at run time re-reads user text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from herald.errors import ValidationError
from herald.sources.urls import target_url
from herald.sources.ws.paths import Path, shown
from herald.sources.ws.presets import Preset, preset
from herald.sources.ws.rules import Condition, Rule, compile_map

MAX_MESSAGES = 16
MAX_MESSAGE_BYTES = 16 * 1024
DEFAULT_FRAME_BYTES = 1 << 20
FRAME_BYTES = (1024, 16 << 20)
DEFAULT_NO_MATCH = 600.0
IDLE_WITH_PINGS = 300.0
"""Seconds without a frame before the connection is taken for dead, while WebSocket pings
prove it alive: an illiquid symbol may trade once in minutes, and a reconnect costs a
``reconnect`` gap on feeds that number nothing."""
IDLE_WITHOUT_PINGS = 60.0
OPTIONS = (
    "preset",
    "symbols",
    "channels",
    "subscribe",
    "map",
    "keepalive",
    "maxFrameBytes",
    "noMatchNotice",
    "idleTimeout",
)


def ws_url(value: object) -> str:
    """A ws:// or wss:// URL with a host, no credentials, at most 2048 characters; the
    scheme and host lower-cased and any fragment dropped, so one feed is one target."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("target: required, the feed's ws:// or wss:// URL")
    return target_url(value.strip(), schemes=("ws", "wss"), scheme_rule="a ws:// or wss:// URL")


def _number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValidationError(f"{name}: a number from {low:g} to {high:g} (got {shown(value)})")
    return float(value)


def _message(value: object, name: str) -> Any:
    if not isinstance(value, Mapping | list | str):
        raise ValidationError(f"{name}: a JSON object, array or string (got {shown(value)})")
    try:
        size = len(orjson.dumps(value))
    except (orjson.JSONEncodeError, TypeError) as exc:  # nested too deep, a NaN...
        raise ValidationError(f"{name}: not encodable as JSON ({exc})") from None
    if size > MAX_MESSAGE_BYTES:
        raise ValidationError(f"{name}: {size} bytes is too long (at most {MAX_MESSAGE_BYTES})")
    return value


def _keepalive(value: object) -> dict[str, Any]:
    name = "options.keepalive"
    if not isinstance(value, Mapping) or not value or set(value) - {"ping", "message", "every"}:
        raise ValidationError(
            f"{name}: an object of ping (seconds between WebSocket pings, or null for none), "
            "message (an application ping sent every `every` seconds) and every"
        )
    out: dict[str, Any] = {}
    if "ping" in value:
        ping = value["ping"]
        out["ping"] = None if ping is None else _number(ping, f"{name}.ping", 1, 600)
    if "message" in value:
        out["message"] = _message(value["message"], f"{name}.message")
        out["every"] = _number(value.get("every", 30), f"{name}.every", 1, 3600)
    elif "every" in value:
        raise ValidationError(f"{name}.every: only with keepalive.message")
    return out


def _preset_options(value: Mapping[str, Any]) -> dict[str, Any]:
    chosen = preset(value["preset"])
    for other in ("subscribe", "map"):
        if other in value:
            raise ValidationError(
                f"options.{other}: comes from preset {chosen.name}; give a preset or "
                "subscribe and map, not both"
            )
    symbols = chosen.symbols(value.get("symbols"))
    channels = chosen.channel_list(value.get("channels"))
    chosen.check_limits(symbols, channels)
    return {"preset": chosen.name, "symbols": symbols, "channels": channels}


def _generic_options(value: Mapping[str, Any]) -> dict[str, Any]:
    for only in ("symbols", "channels"):
        if only in value:
            raise ValidationError(f"options.{only}: only with a preset (binance, coinbase)")
    if "map" not in value:
        raise ValidationError(
            "options.map: required without a preset: which frames to keep and where "
            'their id, time and text are, e.g. {"match": {"$.e": "trade"}, "id": "$.t"}'
        )
    compile_map(value["map"])
    subscribe = value.get("subscribe", [])
    if not isinstance(subscribe, list) or len(subscribe) > MAX_MESSAGES:
        raise ValidationError(
            f"options.subscribe: a list of at most {MAX_MESSAGES} messages sent on connect"
        )
    return {
        "map": dict(value["map"]),
        "subscribe": [_message(m, f"options.subscribe[{i}]") for i, m in enumerate(subscribe)],
    }


def feed_options(value: Mapping[str, Any]) -> dict[str, Any]:
    """Check a ``ws:feed`` stream's options; returns them normalised (symbols in the
    exchange's case, defaults filled in)."""
    if "url" in value:
        raise ValidationError(
            "options.url: the WebSocket URL is the stream's target; give it there"
        )
    unknown = set(value) - set(OPTIONS)
    if unknown:
        raise ValidationError(
            f"options: unknown option(s) {', '.join(sorted(unknown))} (known: {', '.join(OPTIONS)})"
        )
    out = _preset_options(value) if "preset" in value else _generic_options(value)
    if "keepalive" in value:
        out["keepalive"] = _keepalive(value["keepalive"])
    if "maxFrameBytes" in value:
        size = value["maxFrameBytes"]
        low, high = FRAME_BYTES
        if isinstance(size, bool) or not isinstance(size, int) or not low <= size <= high:
            raise ValidationError(f"options.maxFrameBytes: a whole number from {low} to {high}")
        out["maxFrameBytes"] = size
    for name, low in (("noMatchNotice", 1), ("idleTimeout", 5)):
        if name in value:
            out[name] = _number(value[name], f"options.{name}", low, 86400)
    return out


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """What one ``ws:feed`` stream needs of its connection, and its rules."""

    url: str
    subscribe: tuple[Any, ...]
    rules: tuple[Rule, ...]
    exchange: str | None = None
    errors: tuple[tuple[Condition, ...], Path] | None = None
    ping: float | None = 20.0
    keepalive_message: Any = None
    keepalive_every: float = 30.0
    messages_per_second: float | None = None
    max_lifetime: float | None = None
    max_frame_bytes: int = DEFAULT_FRAME_BYTES
    no_match_notice: float = DEFAULT_NO_MATCH
    idle_timeout: float | None = None
    """None: :data:`IDLE_WITH_PINGS` with pings, :data:`IDLE_WITHOUT_PINGS` without."""
    key: str = field(default="", compare=False)

    @property
    def idle(self) -> float:
        if self.idle_timeout is not None:
            return self.idle_timeout
        return IDLE_WITH_PINGS if self.ping else IDLE_WITHOUT_PINGS

    @property
    def proves_continuity(self) -> bool:
        """Every rule numbers its items: after a reconnect, the numbers tell whether
        anything was missed, so no blanket ``reconnect`` gap is needed."""
        return all(rule.sequence is not None for rule in self.rules)


def connection_key(url: str, subscribe: tuple[Any, ...]) -> str:
    """Streams with the same URL and subscribe messages share one connection."""
    digest = hashlib.sha256(
        url.encode() + b"\n" + orjson.dumps(list(subscribe), option=orjson.OPT_SORT_KEYS)
    )
    return "ws:" + digest.hexdigest()[:20]


@lru_cache(maxsize=4096)
def _compiled(target: str, options_json: bytes) -> FeedSpec:
    options = feed_options(orjson.loads(options_json))
    keepalive = options.get("keepalive", {})
    common: dict[str, Any] = {
        "keepalive_message": keepalive.get("message"),
        "keepalive_every": keepalive.get("every", 30.0),
        "max_frame_bytes": options.get("maxFrameBytes", DEFAULT_FRAME_BYTES),
        "no_match_notice": options.get("noMatchNotice", DEFAULT_NO_MATCH),
        "idle_timeout": options.get("idleTimeout"),
    }
    if "preset" in options:
        chosen: Preset = preset(options["preset"])
        symbols, channels = options["symbols"], options["channels"]
        url = chosen.url(target, symbols, channels)
        subscribe = tuple(chosen.subscribe(symbols, channels))
        spec = FeedSpec(
            url=url,
            subscribe=subscribe,
            rules=chosen.rules_for(channels),
            exchange=chosen.exchange,
            errors=chosen.errors,
            ping=keepalive.get("ping", chosen.ping),
            messages_per_second=chosen.messages_per_second,
            max_lifetime=chosen.max_lifetime,
            **common,
        )
    else:
        subscribe = tuple(options["subscribe"])
        spec = FeedSpec(
            url=target,
            subscribe=subscribe,
            rules=(compile_map(options["map"]),),
            ping=keepalive.get("ping", 20.0),
            **common,
        )
    object.__setattr__(spec, "key", connection_key(spec.url, spec.subscribe))
    return spec


def feed_spec(target: str, options: Mapping[str, Any]) -> FeedSpec:
    """The compiled spec of a stream (cached: every frame of every batch asks for it)."""
    return _compiled(target, orjson.dumps(dict(options), option=orjson.OPT_SORT_KEYS))
