"""Exchange presets as data: ``presets/*.json`` say how a preset's symbols and channels
become a URL and subscribe messages, its limits and keepalive, and the rules that turn its
frames into trades and tickers. This module only reads and applies them; no exchange has
a code path of its own.

In templates, the string ``"$symbols"`` becomes the list of symbols, ``"$channels"`` the
list of channels, ``"$streams"`` the list of ``stream`` names (``{symbol}@{channel}``) of
one batch, and ``"$n"`` the message's number (1, 2, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson

from herald.errors import ValidationError
from herald.sources.ws.paths import Path, compile_path, shown
from herald.sources.ws.rules import Condition, Rule, compile_match, compile_rule


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    summary: str
    exchange: str
    default_url: str
    symbol_pattern: re.Pattern[str]
    symbol_case: str
    symbol_example: str
    channels: tuple[str, ...]
    default_channels: tuple[str, ...]
    connect: Mapping[str, Any]
    max_streams: int
    messages_per_second: float | None
    max_lifetime: float | None
    ping: float | None
    errors: tuple[tuple[Condition, ...], Path] | None
    rules: tuple[Rule, ...]

    def rules_for(self, channels: list[str]) -> tuple[Rule, ...]:
        """The rules of these channels (the same tuple for the same channels, so streams
        that share them are decoded together)."""
        return _rules_for(self.name, tuple(channels))

    def symbols(self, value: object) -> list[str]:
        field = "options.symbols"
        if not isinstance(value, list) or not value:
            raise ValidationError(
                f"{field}: required with preset {self.name}, a list of symbols "
                f"such as [{self.symbol_example!r}]"
            )
        out: list[str] = []
        for symbol in value:
            if not isinstance(symbol, str) or not self.symbol_pattern.match(symbol):
                raise ValidationError(
                    f"{field}: {shown(symbol)} is not a {self.name} symbol "
                    f"(like {self.symbol_example!r}: {self.symbol_pattern.pattern})"
                )
            norm = symbol.lower() if self.symbol_case == "lower" else symbol.upper()
            if norm not in out:
                out.append(norm)
        return out

    def channel_list(self, value: object) -> list[str]:
        if value is None:
            return list(self.default_channels)
        known = ", ".join(self.channels)
        if not isinstance(value, list) or not value:
            raise ValidationError(f"options.channels: a non-empty list of {known}")
        for channel in value:
            if channel not in self.channels:
                raise ValidationError(
                    f"options.channels: {shown(channel)} is not a {self.name} channel "
                    f"(known: {known})"
                )
        return list(dict.fromkeys(value))

    def check_limits(self, symbols: list[str], channels: list[str]) -> None:
        count = len(symbols) * len(channels)
        if count > self.max_streams:
            raise ValidationError(
                f"options.symbols: {len(symbols)} symbols x {len(channels)} channels is "
                f"{count} streams; {self.name} allows at most {self.max_streams} on one "
                "connection (split them over several streams)"
            )

    def streams(self, symbols: list[str], channels: list[str]) -> list[str]:
        template = str(self.connect.get("stream", "{symbol}"))
        return [template.format(symbol=s, channel=c) for s in symbols for c in channels]

    def url(self, target: str, symbols: list[str], channels: list[str]) -> str:
        """The target with the preset's path, and the first ``urlStreams`` streams in its
        query (the rest go in subscribe messages: a URL has a length limit)."""
        parts = urlsplit(target)
        path = parts.path.rstrip("/")
        query = parts.query
        if "path" in self.connect:
            suffix = str(self.connect["path"])
            path = path if path.endswith(suffix) else path + suffix
        if "query" in self.connect:
            names = self.streams(symbols, channels)[: int(self.connect.get("urlStreams", 1 << 30))]
            joined = str(self.connect.get("join", "/")).join(names)
            query = urlencode({str(self.connect["query"]): joined}, safe="@/")
        return urlunsplit((parts.scheme, parts.netloc, path or "/", query, ""))

    def subscribe(self, symbols: list[str], channels: list[str]) -> list[Any]:
        template = self.connect.get("subscribe")
        if template is None:
            return []
        if "query" not in self.connect:
            return [_fill(template, {"$symbols": symbols, "$channels": channels, "$n": 1})]
        rest = self.streams(symbols, channels)[int(self.connect.get("urlStreams", 1 << 30)) :]
        size = int(self.connect.get("batch", 200))
        return [
            _fill(template, {"$streams": rest[i : i + size], "$n": i // size + 1})
            for i in range(0, len(rest), size)
        ]


def _fill(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str) and template in values:
        return values[template]
    if isinstance(template, Mapping):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


def _load(data: Mapping[str, Any]) -> Preset:
    name = str(data["name"])
    field = f"preset {name}"
    limits = data.get("limits", {})
    errors = data.get("errors")
    return Preset(
        name=name,
        summary=str(data.get("summary", "")),
        exchange=str(data["exchange"]),
        default_url=str(data["defaultUrl"]),
        symbol_pattern=re.compile(data["symbols"]["pattern"]),
        symbol_case=str(data["symbols"].get("case", "")),
        symbol_example=str(data["symbols"].get("example", "")),
        channels=tuple(data["channels"]),
        default_channels=tuple(data["defaultChannels"]),
        connect=dict(data.get("connect", {})),
        max_streams=int(limits.get("maxStreams", 1024)),
        messages_per_second=limits.get("messagesPerSecond"),
        max_lifetime=limits.get("maxLifetime"),
        ping=data.get("keepalive", {}).get("ping", 20.0),
        errors=(
            compile_match(errors["match"], f"{field}.errors.match"),
            compile_path(errors["message"], f"{field}.errors.message"),
        )
        if errors
        else None,
        rules=tuple(
            compile_rule(rule, f"{field}.rules[{i}]") for i, rule in enumerate(data["rules"])
        ),
    )


@cache
def _rules_for(name: str, channels: tuple[str, ...]) -> tuple[Rule, ...]:
    rules = presets()[name].rules
    return tuple(r for r in rules if r.channel is None or r.channel in channels)


@cache
def presets() -> dict[str, Preset]:
    """Every preset shipped in ``presets/``, by name."""
    folder = resources.files("herald.sources.ws") / "presets"
    found: dict[str, Preset] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            preset = _load(orjson.loads(entry.read_bytes()))
            found[preset.name] = preset
    return found


def preset(name: object) -> Preset:
    known = presets()
    if not isinstance(name, str) or name not in known:
        raise ValidationError(f"options.preset: one of {', '.join(known)} (got {shown(name)})")
    return known[name]
