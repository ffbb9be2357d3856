"""What a log record means to the rules: which rules it reaches and what it counts for.

Rules are compiled once per change of the rule set (:class:`Compiled`) and indexed by the
streams they name, so a record is checked against the rules of its own stream and the
unscoped ones only, not against every rule (1,000 rules over 10,000 streams).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from herald.pipeline.core import Record

#: Event types that carry a new item (``stream:tweet:new``, ``stream:post:new``...).
NEW_SUFFIX = ":new"
METRICS = "stream:tweet:metrics"
ENGAGEMENT_PARTS = ("likes", "retweets", "replies", "quotes")
_ITEM_KEYS = ("tweet", "post", "mention", "entry", "message", "dm", "trade", "follower")
_TEXT_FIELDS = ("text", "title", "summary")
#: Fields of a rule that change how it evaluates; another value resets its state.
_REVISION_FIELDS = (
    "type",
    "condition",
    "threshold",
    "window",
    "for",
    "keepFiringFor",
    "minSamples",
    "resolveThreshold",
    "scope",
    "groupBy",
    "baseline",
    "metric",
    "labels",
)


def fingerprint(rule_id: str, labels: Mapping[str, str]) -> str:
    """A stable hash of the rule id and the instance's labels (16 hex digits)."""
    raw = orjson.dumps([rule_id, dict(sorted(labels.items()))])
    return hashlib.sha256(raw).hexdigest()[:16]


def revision(rule: Mapping[str, Any]) -> str:
    raw = orjson.dumps({k: rule.get(k) for k in _REVISION_FIELDS}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(raw).hexdigest()[:12]


@dataclass(slots=True)
class Compiled:
    """A rule ready to be matched: its JSON plus what the hot path needs precomputed."""

    rule: dict[str, Any]
    id: str
    type: str
    window: float
    streams: frozenset[str]
    platforms: frozenset[str]
    keywords: tuple[str, ...]
    revision: str
    label_base: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    group_by: tuple[str, ...] = ()
    keyword: str = ""
    parts: tuple[str, ...] = ()
    _groups: dict[tuple[str, str], tuple[str, dict[str, str]]] = field(default_factory=dict)

    @staticmethod
    def of(rule: dict[str, Any]) -> Compiled:
        scope = rule.get("scope") or {}
        base = {"ruleId": rule["id"], "channel": rule["channel"], "type": rule["type"]}
        base.update(rule.get("labels") or {})
        metric = rule.get("metric") or "total"
        return Compiled(
            rule=rule,
            id=rule["id"],
            type=rule["type"],
            window=float(rule["window"]),
            streams=frozenset(scope.get("streams") or ()),
            platforms=frozenset(scope.get("platforms") or ()),
            keywords=tuple(k.lower() for k in scope.get("keywords") or ()),
            revision=revision(rule),
            label_base=base,
            fingerprint=fingerprint(rule["id"], base),
            group_by=tuple(rule.get("groupBy") or ()),
            keyword=str(rule["threshold"]) if rule["type"] == "keyword" else "",
            parts=ENGAGEMENT_PARTS if metric == "total" else (metric,),
        )

    def instance(self, stream_id: str, platform: str) -> tuple[str, dict[str, str]]:
        """The fingerprint and labels of the instance an item of this stream falls in."""
        if not self.group_by:
            return self.fingerprint, self.label_base
        key = (stream_id, platform)
        found = self._groups.get(key)
        if found is None:
            labels = dict(self.label_base)
            for name in self.group_by:
                labels[name] = stream_id if name == "streamId" else platform
            found = (fingerprint(self.id, labels), labels)
            if len(self._groups) < 100_000:
                self._groups[key] = found
        return found

    def covers(self, stream_id: str, platform: str) -> bool:
        """Whether the rule's scope includes a stream (for errors and stops)."""
        if self.streams and stream_id not in self.streams:
            return False
        return not (self.platforms and platform and platform not in self.platforms)


class RuleIndex:
    """The enabled rules, indexed by the streams, else the platforms, they name."""

    def __init__(self, rules: Iterable[dict[str, Any]]) -> None:
        self.rules: dict[str, Compiled] = {}
        self.by_stream: dict[str, list[Compiled]] = {}
        self.by_platform: dict[str, list[Compiled]] = {}
        self.anywhere: list[Compiled] = []
        for rule in rules:
            if not rule.get("enabled", True):
                continue
            compiled = Compiled.of(rule)
            self.rules[compiled.id] = compiled
            if compiled.streams:
                for sid in compiled.streams:
                    self.by_stream.setdefault(sid, []).append(compiled)
            elif compiled.platforms:
                for name in compiled.platforms:
                    self.by_platform.setdefault(name, []).append(compiled)
            else:
                self.anywhere.append(compiled)

    def candidates(self, stream_id: str, platform: str) -> list[Compiled]:
        """The rules whose stream or platform scope lets this stream's items in."""
        scoped = self.by_stream.get(stream_id)
        wide = self.by_platform.get(platform)
        if not scoped and not wide:
            return self.anywhere
        return [*(scoped or ()), *(wide or ()), *self.anywhere]


@dataclass(slots=True)
class Seen:
    """One record, read once for every rule it reaches."""

    record: Record
    stream_id: str
    platform: str
    item_id: str | None
    new_item: bool
    sentiment: float | None
    metrics: Mapping[str, Any] | None
    _text: str | None = None
    _item: Mapping[str, Any] | None = None
    _windows: dict[float, tuple[float, str]] = field(default_factory=dict)

    @staticmethod
    def of(record: Record) -> Seen:
        event = record.event
        etype = str(event.get("type", ""))
        item: Mapping[str, Any] | None = None
        for key in _ITEM_KEYS:
            found = event.get(key)
            if isinstance(found, Mapping):
                item = found
                break
        sentiment = None
        metrics = None
        if item is not None:
            score = item.get("sentiment")
            if isinstance(score, Mapping):
                compound = score.get("compound")
                if isinstance(compound, int | float) and not isinstance(compound, bool):
                    sentiment = float(compound)
        if etype == METRICS:
            delta = event.get("delta")
            metrics = delta if isinstance(delta, Mapping) else None
        item_id = item.get("id") if item is not None else None
        return Seen(
            record=record,
            stream_id=str(event.get("streamId", "")),
            platform=str(event.get("platform", "")),
            item_id=str(item_id) if item_id is not None else None,
            new_item=etype.startswith("stream:") and etype.endswith(NEW_SUFFIX),
            sentiment=sentiment,
            metrics=metrics,
            _item=item,
        )

    @property
    def text(self) -> str:
        """The item's words, lower case (text, title, summary), for keyword matching."""
        if self._text is None:
            item = self._item or {}
            parts = [str(item[f]) for f in _TEXT_FIELDS if isinstance(item.get(f), str)]
            self._text = " ".join(parts).lower()
        return self._text

    def reaches(self, rule: Compiled) -> bool:
        """In the rule's scope: its streams, platforms and keywords."""
        if rule.platforms and self.platform not in rule.platforms:
            return False
        if rule.keywords:
            text = self.text
            return any(k in text for k in rule.keywords)
        return True

    def sample(self, rule: Compiled) -> float | None:
        """What the record adds to the rule's window: a count, a score, a delta; None if
        it does not count for this rule."""
        kind = rule.type
        if kind == "volume":
            return 1.0 if self.new_item else None
        if kind == "sentiment":
            return self.sentiment if self.new_item else None
        if kind == "engagement":
            if self.metrics is None:
                return None
            total = 0.0
            for name in rule.parts:
                value = self.metrics.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    total += float(value)
            return total
        return None

    def matches_keyword(self, rule: Compiled) -> bool:
        return self.new_item and rule.keyword in self.text

    def window_key(self, size: float) -> tuple[float, str]:
        """The start of this record's window of ``size`` s, and its key in the state."""
        found = self._windows.get(size)
        if found is None:
            start = math.floor(self.record.time / size) * size
            found = self._windows[size] = (start, repr(start))
        return found
