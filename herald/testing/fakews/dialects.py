"""How each recorded upstream answers a client: which frames a connection asked for, and
the replies to what it sends (Binance's ``SUBSCRIBE``, Coinbase's ``subscribe``).

The reply shapes are those of the exchanges' documentation and of the recordings (the
Coinbase ``subscriptions`` frames in ``COINBASE.ws.28.0``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson

from herald.testing.fakews.recording import Recorded

BINANCE_MAX_STREAMS = 1024
"""Streams one Binance connection may carry."""
BINANCE_MAX_MESSAGES = 5
"""Messages per second a Binance client may send before it is disconnected."""

COINBASE_CHANNELS: dict[str, tuple[str, ...]] = {
    "level2": ("snapshot", "l2update"),
    "ticker": ("ticker",),
    "matches": ("match", "last_match"),
    "heartbeat": ("heartbeat",),
    "status": ("status",),
    "full": ("received", "open", "done", "change", "activate", "match"),
}
"""Coinbase channel -> the frame types it carries."""


class Dialect:
    """A connection's subscription; the generic one takes every frame from the start."""

    name = "generic"

    def __init__(self, query: str) -> None:
        self.query = query

    @property
    def started(self) -> bool:
        """The replay runs once this holds (Coinbase: after the first subscribe)."""
        return True

    def wants(self, frame: Recorded) -> bool:
        return True

    def answer(self, text: str) -> tuple[list[str], str | None]:
        """Replies to a client message, and a close reason when the client broke a rule."""
        return [], None

    def describe(self) -> Any:
        return None


def _json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()


SUBSCRIBING = ("subscribe", "unsubscribe")


def _error(reason: str) -> str:
    """Coinbase's error frame."""
    return _dump({"type": "error", "message": "Failed to subscribe", "reason": reason})


class Binance(Dialect):
    """Combined streams: ``?streams=a/b/c`` and ``SUBSCRIBE``/``UNSUBSCRIBE``."""

    name = "binance"

    def __init__(self, query: str) -> None:
        super().__init__(query)
        names = parse_qs(query).get("streams", [""])[0]
        self.streams: list[str] = [s for s in names.split("/") if s]

    def wants(self, frame: Recorded) -> bool:
        return frame.stream in self.streams

    def too_many(self) -> str | None:
        if len(self.streams) > BINANCE_MAX_STREAMS:
            return f"too many streams: {len(self.streams)} (at most {BINANCE_MAX_STREAMS})"
        return None

    def answer(self, text: str) -> tuple[list[str], str | None]:
        message = _json(text)
        if not isinstance(message, dict):
            return [_dump({"code": 3, "msg": "Invalid JSON: expected an object"})], None
        ident = message.get("id")
        method = message.get("method")
        params = message.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                return [_dump({"code": 2, "msg": "Invalid request: params", "id": ident})], None
            if method == "SUBSCRIBE":
                self.streams.extend(p for p in params if p not in self.streams)
            else:
                self.streams = [s for s in self.streams if s not in params]
            return [_dump({"result": None, "id": ident})], self.too_many()
        if method == "LIST_SUBSCRIPTIONS":
            return [_dump({"result": list(self.streams), "id": ident})], None
        return [_dump({"code": 2, "msg": f"Invalid request: method {method!r}", "id": ident})], None

    def describe(self) -> Any:
        return list(self.streams)


class Coinbase(Dialect):
    """The Exchange feed: nothing until ``subscribe``; channels per product."""

    name = "coinbase"

    def __init__(self, query: str) -> None:
        super().__init__(query)
        self.channels: dict[str, list[str]] = {}
        self._types: dict[str, set[str]] = {}

    @property
    def started(self) -> bool:
        return bool(self.channels)

    def wants(self, frame: Recorded) -> bool:
        products = self._types.get(frame.kind)
        return products is not None and (frame.product is None or frame.product in products)

    def answer(self, text: str) -> tuple[list[str], str | None]:
        message = _json(text)
        if not isinstance(message, dict) or message.get("type") not in SUBSCRIBING:
            return [_error("expected a subscribe or unsubscribe message")], None
        wanted = self._parse(message)
        if isinstance(wanted, str):
            return [_error(wanted)], None
        for name, products in wanted.items():
            have = self.channels.setdefault(name, [])
            if message["type"] == "subscribe":
                have.extend(p for p in products if p not in have)
            else:
                self.channels[name] = [p for p in have if p not in products]
        self.channels = {n: p for n, p in self.channels.items() if p}
        self._types = {}
        for name, products in self.channels.items():
            for kind in COINBASE_CHANNELS[name]:
                self._types.setdefault(kind, set()).update(products)
        return [_dump({"type": "subscriptions", "channels": self.describe()})], None

    @staticmethod
    def _parse(message: dict[str, Any]) -> dict[str, list[str]] | str:
        products = message.get("product_ids", [])
        channels = message.get("channels")
        if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
            return "product_ids must be a list of strings"
        if not isinstance(channels, list) or not channels:
            return "channels must be a non-empty list"
        wanted: dict[str, list[str]] = {}
        for channel in channels:
            name, own = channel, products
            if isinstance(channel, dict):
                name, own = channel.get("name"), channel.get("product_ids", products)
            if name not in COINBASE_CHANNELS:
                return f"{name!r} is not a valid channel"
            if not isinstance(own, list) or not own:
                return f"channel {name} has no product_ids"
            wanted[str(name)] = [str(p) for p in own]
        return wanted

    def describe(self) -> Any:
        return [{"name": n, "product_ids": list(p)} for n, p in self.channels.items()]


def dialect_for(name: str, query: str) -> Dialect:
    if name == "binance":
        return Binance(query)
    if name == "coinbase":
        return Coinbase(query)
    return Dialect(query)
