"""The ``ws:feed`` stream type as data: a WebSocket URL, options checked at start, and the
events a generic map or a preset emits."""

from __future__ import annotations

from typing import Any

from herald.events import EventType
from herald.sources.types import StreamType, Target
from herald.sources.ws.presets import presets
from herald.sources.ws.spec import FRAME_BYTES, MAX_MESSAGES, feed_options, ws_url

FEED_URL = Target(
    description="a WebSocket URL (ws:// or wss://), at most 2048 characters, no credentials; "
    "with a preset, the exchange's endpoint",
    example="wss://stream.binance.com:9443",
    validate=ws_url,
    pattern=(
        r"^[Ww][Ss][Ss]?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,60}[A-Za-z0-9])?"
        r"(?::[1-9][0-9]{0,4})?(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]{0,1000})?"
        r"(?:\?[A-Za-z0-9._~%!$&'()*+,;=:@/?-]{0,500})?$"
    ),
    label="WebSocket URL",
)

MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "data"],
    "properties": {
        "id": {"type": "string"},
        "data": {"description": "the frame (or the part of it the map's data path names)"},
        "time": {"type": "string", "format": "date-time"},
        "text": {"type": "string"},
    },
}

_SCALAR = {"type": ["string", "number", "boolean", "null"]}
OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "preset": {"type": "string", "enum": sorted(presets())},
        "symbols": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "channels": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "subscribe": {"type": "array", "maxItems": MAX_MESSAGES},
        "map": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "match": {"type": "object"},
                "id": {"type": "string"},
                "time": {"type": "string"},
                "text": {"type": "string"},
                "data": {"type": "string"},
            },
        },
        "keepalive": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ping": {"type": ["number", "null"], "minimum": 1, "maximum": 600},
                "message": {"type": ["object", "array", "string"]},
                "every": {"type": "number", "minimum": 1, "maximum": 3600},
            },
        },
        "maxFrameBytes": {"type": "integer", "minimum": FRAME_BYTES[0], "maximum": FRAME_BYTES[1]},
        "noMatchNotice": {"type": "number", "minimum": 1, "maximum": 86400},
        "idleTimeout": {"type": "number", "minimum": 5, "maximum": 86400},
    },
}
del _SCALAR

OPTION_DOCS = {
    "preset": f"an exchange preset: {', '.join(sorted(presets()))} (then symbols, channels)",
    "symbols": "with a preset: the symbols or products (btcusdt, BTC-USD)",
    "channels": "with a preset: binance aggTrade|trade|bookTicker|ticker, coinbase matches|ticker",
    "subscribe": "without a preset: messages sent on every connect (JSON or text)",
    "map": "without a preset: {match, id, time, text, data} paths such as $.data.s",
    "keepalive": "{ping: seconds or null, message: an application ping, every: seconds}",
    "maxFrameBytes": "frames over this size are refused (default 1 MiB)",
    "noMatchNotice": "seconds without a frame matching the map before a notice (default 600)",
    "idleTimeout": "seconds without any frame before reconnecting (default 300; 60 without pings)",
}


def _message(item: Any) -> dict[str, Any]:
    """Push types are built by their source; the catalog's payload hook passes through."""
    return dict(item)


STREAM_TYPES: tuple[StreamType, ...] = (
    StreamType(
        name="ws:feed",
        platform="ws",
        summary="frames of any WebSocket feed (a map, or the Binance and Coinbase presets)",
        target=FEED_URL,
        diff="posts",
        new_event=EventType.MESSAGE_NEW,
        payload_key="message",
        payload=_message,
        payload_schema=MESSAGE_SCHEMA,
        events=(EventType.MESSAGE_NEW, EventType.TRADE_NEW, EventType.TICKER_UPDATE),
        options=feed_options,
        option_docs=OPTION_DOCS,
        options_schema=OPTIONS_SCHEMA,
        paged=False,
        mode="push",
    ),
)
