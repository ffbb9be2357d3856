"""Content filters of a subscription, compiled once and shared by every client that asks
for the same thing.

A :class:`Filter` is hashable by its canonical :attr:`Filter.key`, so the hub groups
clients by filter and evaluates each distinct filter once per event. Filters look at the
event's item: the object under any payload key the stream-type catalog declares (``tweet``,
``mention``, ``post``, ``entry``...). Keywords and regexes match its text fields (``text``,
``title``, ``summary``), author filters its ``author``; ``isRetweet``, ``isReply`` and
``lang`` where the item has them. An event without such an item (follower counts,
lifecycle) fails a keyword, regex, author allow-list or language filter and passes the
exclusion filters.

``sentiment`` reads the item's ``sentiment`` (scored at ingest, :mod:`herald.sentiment`):
labels, or a range of the compound score. An event without a score (no item, a language
VADER does not read) matches no sentiment filter. ``channels`` reads the body's top-level
``channel`` (alert events carry it); an event without one matches no channel filter.

Regexes are compiled with RE2, which runs in linear time, so a pattern cannot backtrack
catastrophically; its length is capped as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import re2  # type: ignore[import-untyped]

from herald.delivery.entry import Entry
from herald.errors import ValidationError
from herald.sentiment import LABELS
from herald.sources.catalog import item_of

MAX_TERMS = 100
MAX_TERM_LEN = 200
MAX_REGEX_LEN = 512
_FIELDS = frozenset(
    {
        "keywords",
        "keywordMode",
        "caseSensitive",
        "wholeWord",
        "authors",
        "excludeAuthors",
        "excludeRetweets",
        "excludeReplies",
        "regex",
        "languages",
        "sentiment",
        "channels",
    }
)

Predicate = Callable[[dict[str, Any]], bool]


TEXT_FIELDS = ("text", "title", "summary")
"""The fields of an item that keywords and regexes search, in this order."""


def _item(body: dict[str, Any]) -> dict[str, Any] | None:
    found = item_of(body)
    return found[1] if found else None


def _text(body: dict[str, Any]) -> str | None:
    """The item's text fields, one per line (a feed entry's title and summary)."""
    item = _item(body)
    if item is None:
        return None
    parts = [value for name in TEXT_FIELDS if isinstance(value := item.get(name), str)]
    return "\n".join(parts) if parts else None


def _strings(
    value: Any, name: str, *, lower: bool = False, prefix: str | None = None
) -> tuple[str, ...]:
    field_name = prefix if prefix is not None else f"filters.{name}"
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError(f"{field_name} must be a list of non-empty strings")
    if len(value) > MAX_TERMS:
        raise ValidationError(f"{field_name} has more than {MAX_TERMS} entries")
    if any(len(v) > MAX_TERM_LEN for v in value):
        raise ValidationError(f"{field_name} entries must be at most {MAX_TERM_LEN} characters")
    out = sorted({v.lower() if lower else v for v in value})
    return tuple(out)


def _flag(raw: dict[str, Any], name: str) -> bool:
    value = raw.get(name, False)
    if not isinstance(value, bool):
        raise ValidationError(f"filters.{name} must be true or false")
    return value


def _author(name: str) -> str:
    return name.lstrip("@").lower()


@dataclass(frozen=True, slots=True)
class Filter:
    """A compiled filter; :attr:`key` identifies it across clients."""

    key: str
    predicates: tuple[Predicate, ...]

    def __call__(self, body: dict[str, Any]) -> bool:
        return all(p(body) for p in self.predicates)


def parse_filter(raw: Any) -> Filter | None:
    """Validate and compile ``filters``; ``None`` when it asks for nothing."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValidationError("filters must be an object")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise ValidationError(
            f"filters.{unknown[0][:64]} is not a known filter; known: {', '.join(sorted(_FIELDS))}"
        )
    canon: dict[str, Any] = {}
    preds: list[Predicate] = []
    _keywords(raw, canon, preds)
    _authors(raw, canon, preds)
    for name, field_name in (("excludeRetweets", "isRetweet"), ("excludeReplies", "isReply")):
        if _flag(raw, name):
            canon[name] = True
            preds.append(_exclude(field_name))
    if raw.get("regex") is not None:
        canon["regex"] = raw["regex"]
        preds.append(_regex(raw["regex"]))
    if raw.get("languages") is not None:
        langs = frozenset(_strings(raw["languages"], "languages", lower=True))
        canon["languages"] = sorted(langs)
        preds.append(_language(langs))
    if raw.get("sentiment") is not None:
        canon["sentiment"] = sentiment_value(raw["sentiment"])
        preds.append(_sentiment(canon["sentiment"]))
    if raw.get("channels") is not None:
        canon["channels"] = channels_value(raw["channels"])
        preds.append(_channels(frozenset(canon["channels"])))
    if not preds:
        return None
    return Filter(orjson.dumps(canon, option=orjson.OPT_SORT_KEYS).decode(), tuple(preds))


def _keywords(raw: dict[str, Any], canon: dict[str, Any], preds: list[Predicate]) -> None:
    case_sensitive = _flag(raw, "caseSensitive")
    whole_word = _flag(raw, "wholeWord")
    mode = raw.get("keywordMode", "any")
    if mode not in ("any", "all"):
        raise ValidationError('filters.keywordMode must be "any" or "all"')
    if raw.get("keywords") is None:
        return
    terms = _strings(raw["keywords"], "keywords", lower=not case_sensitive)
    canon.update(
        keywords=list(terms), keywordMode=mode, caseSensitive=case_sensitive, wholeWord=whole_word
    )
    preds.append(_keyword_predicate(terms, mode == "all", case_sensitive, whole_word))


def _keyword_predicate(
    terms: Sequence[str], require_all: bool, case_sensitive: bool, whole_word: bool
) -> Predicate:
    flags = 0 if case_sensitive else re.IGNORECASE
    # Escaped literals between word boundaries: linear, cannot backtrack badly.
    patterns = [re.compile(rf"(?<!\w){re.escape(t)}(?!\w)", flags) for t in terms]
    combine = all if require_all else any

    def match(body: dict[str, Any]) -> bool:
        text = _text(body)
        if text is None:
            return False
        if whole_word:
            return combine(p.search(text) is not None for p in patterns)
        hay = text if case_sensitive else text.lower()
        return combine(t in hay for t in terms)

    return match


def _authors(raw: dict[str, Any], canon: dict[str, Any], preds: list[Predicate]) -> None:
    if raw.get("authors") is not None:
        allow = frozenset(_author(a) for a in _strings(raw["authors"], "authors"))
        canon["authors"] = sorted(allow)

        def allowed(body: dict[str, Any]) -> bool:
            item = _item(body)
            author = item.get("author") if item else None
            return isinstance(author, str) and _author(author) in allow

        preds.append(allowed)
    if raw.get("excludeAuthors") is not None:
        deny = frozenset(_author(a) for a in _strings(raw["excludeAuthors"], "excludeAuthors"))
        canon["excludeAuthors"] = sorted(deny)

        def not_denied(body: dict[str, Any]) -> bool:
            item = _item(body)
            author = item.get("author") if item else None
            return not (isinstance(author, str) and _author(author) in deny)

        preds.append(not_denied)


def _exclude(field_name: str) -> Predicate:
    def keep(body: dict[str, Any]) -> bool:
        item = _item(body)
        return not (item and item.get(field_name) is True)

    return keep


def _regex(pattern: Any) -> Predicate:
    if not isinstance(pattern, str) or not pattern:
        raise ValidationError("filters.regex must be a non-empty string")
    if len(pattern) > MAX_REGEX_LEN:
        raise ValidationError(f"filters.regex must be at most {MAX_REGEX_LEN} characters")
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 8 << 20
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValidationError(f"filters.regex is not a valid RE2 pattern: {reason}") from exc

    def match(body: dict[str, Any]) -> bool:
        text = _text(body)
        return text is not None and compiled.search(text) is not None

    return match


def _language(langs: frozenset[str]) -> Predicate:
    def match(body: dict[str, Any]) -> bool:
        item = _item(body)
        lang = item.get("lang") if item else None
        return isinstance(lang, str) and lang.lower() in langs

    return match


SENTIMENT_RULE = (
    "must be positive, negative or neutral, a list of them, "
    'or a compound range such as {"min": -1, "max": -0.3} (from -1 to 1)'
)


def sentiment_value(value: Any, name: str = "filters.sentiment") -> list[str] | dict[str, float]:
    """The canonical form of a sentiment filter: sorted labels, or ``{min, max}`` with both
    ends filled in. ``name`` is the field as the client spelled it, for the error."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        if not value or not all(isinstance(v, str) for v in value):
            raise ValidationError(f"{name} {SENTIMENT_RULE}")
        for label in value:
            if label not in LABELS:
                raise ValidationError(
                    f"{name}: unknown label {label[:64]!r}; known: {', '.join(LABELS)}"
                )
        return sorted(set(value))
    if not isinstance(value, dict) or not value:
        raise ValidationError(f"{name} {SENTIMENT_RULE}")
    unknown = sorted(set(value) - {"min", "max"})
    if unknown:
        raise ValidationError(f"{name}.{unknown[0][:64]} is not a known field; known: min, max")
    ends: dict[str, float] = {}
    for end, default in (("min", -1.0), ("max", 1.0)):
        bound = value.get(end, default)
        if isinstance(bound, bool) or not isinstance(bound, int | float) or not -1 <= bound <= 1:
            raise ValidationError(f"{name}.{end} must be a number from -1 to 1")
        ends[end] = float(bound)
    if ends["min"] > ends["max"]:
        raise ValidationError(f"{name}: min ({ends['min']:g}) is above max ({ends['max']:g})")
    return ends


def channels_value(value: Any, name: str = "filters.channels") -> list[str]:
    """Sorted channel names (a string is one name, or several comma-separated)."""
    if isinstance(value, str):
        value = [v for v in value.split(",") if v]
    return sorted(set(_strings(value, name.removeprefix("filters."), prefix=name)))


def room_names(data: Any) -> list[str]:
    """The channels of a Socket.IO ``join`` / ``leave``: ``{channels}``, a list or a name."""
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"channels"})
        if unknown:
            raise ValidationError(f"{unknown[0][:64]} is not a known field; known: channels")
        data = data.get("channels")
    if data is None or data == [] or data == "":
        raise ValidationError("channels: give at least one channel name")
    return channels_value(data, "channels")


def _sentiment(wanted: list[str] | dict[str, float]) -> Predicate:
    def match(body: dict[str, Any]) -> bool:
        item = _item(body)
        score = item.get("sentiment") if item else None
        if not isinstance(score, dict):
            return False
        if isinstance(wanted, list):
            return score.get("label") in wanted
        compound = score.get("compound")
        return (
            isinstance(compound, int | float)
            and not isinstance(compound, bool)
            and wanted["min"] <= compound <= wanted["max"]
        )

    return match


def in_rooms(entry: Entry, rooms: frozenset[str]) -> bool:
    """Whether ``entry`` is routed to one of ``rooms`` (its ``channel``); most bodies have
    no channel at all, and those are not parsed to find out."""
    if b'"channel"' not in entry.data:
        return False
    channel = entry.body.get("channel")
    return isinstance(channel, str) and channel in rooms


def _channels(wanted: frozenset[str]) -> Predicate:
    def match(body: dict[str, Any]) -> bool:
        channel = body.get("channel")
        return isinstance(channel, str) and channel in wanted

    return match


#: Filters that may be given at the top level of a query too, with the canonical form of each.
_LIFTED: dict[str, Callable[[Any, str], Any]] = {
    "sentiment": sentiment_value,
    "channels": channels_value,
}


def lift_filters(raw: dict[str, Any]) -> Any:
    """``filters`` with the top-level ``sentiment`` and ``channels`` moved into it (both
    spellings at once must agree); errors name the field as the client wrote it."""
    filters = raw.get("filters")
    given = {name: raw[name] for name in _LIFTED if raw.get(name) is not None}
    if not given:
        return filters
    if filters is not None and not isinstance(filters, dict):
        return filters  # parse_filter refuses it
    merged = dict(filters or {})
    for name, value in given.items():
        canon = _LIFTED[name](value, name)
        inner = merged.get(name)
        if inner is not None and _LIFTED[name](inner, f"filters.{name}") != canon:
            raise ValidationError(
                f"{name}: given twice (top level and in filters) with different values"
            )
        merged[name] = canon
    return merged


def sentiment_param(text: str) -> Any:
    """``sentiment`` as a URL parameter or a CLI option: labels comma-separated
    (``negative,neutral``), or a range as JSON (``{"min":-1,"max":-0.3}``)."""
    if text.lstrip().startswith("{"):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            raise ValidationError(f"sentiment {SENTIMENT_RULE}") from None
    return [v for v in text.split(",") if v]
