"""Sentiment of a post-like item, scored once when it is detected.

VADER (``vaderSentiment``) is a lexicon and a handful of rules: no model to download, no
network, the same answer for the same text on every machine. Its compound score runs from
-1 (most negative) to +1; the label follows VADER's documented thresholds: ``positive`` at
0.05 and above, ``negative`` at -0.05 and below, ``neutral`` between.

Scoring happens while an event is built, before it is appended, so the score is part of the
logged body: a retried poll builds the same body (VADER is deterministic), a replay shows
what live delivery showed, and no event is ever scored twice.

VADER's lexicon is English. An item whose platform says it is in another language gets no
``sentiment`` at all (a 0 would read as "neutral", which nobody measured). An item with no
language, or a code that names no language (``und``, ``zxx``, ``mul``, ``mis`` and the
private-use codes ``qaa``-``qtz`` that X uses for media-only or hashtag-only posts), is
scored: most of what herald reads without a language tag is English, and VADER's emoji and
emoticon rules need no language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal

Label = Literal["positive", "negative", "neutral"]
LABELS: tuple[Label, ...] = ("positive", "negative", "neutral")
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
#: Characters of an item's text that are scored: a bound on the cost of one item (X's long
#: posts run to 25,000 characters; their opening carries their tone).
MAX_CHARS = 2000
#: Languages VADER's lexicon covers (ISO 639-1 primary subtags).
COVERED = frozenset({"en"})
_NO_LANGUAGE = frozenset({"und", "zxx", "mul", "mis"})
_PRIVATE_USE = re.compile(r"^q[a-t][a-z]$")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "VADER sentiment, scored when the item was detected (absent for "
    "languages VADER does not cover)",
    "required": ["compound", "label"],
    "properties": {
        "compound": {"type": "number", "minimum": -1, "maximum": 1},
        "label": {"type": "string", "enum": list(LABELS)},
    },
}
"""JSON schema of the ``sentiment`` object of an item, for the payload schemas."""


@cache
def _analyzer() -> Any:
    """Loaded once per process, on first use: the lexicon takes a few milliseconds to read,
    and VADER imports ``requests``, which a CLI that never scores should not pay for."""
    from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
        SentimentIntensityAnalyzer,
    )

    class Analyzer(SentimentIntensityAnalyzer):  # type: ignore[misc]
        """VADER, the same scores, without its quadratic step.

        For every sentiment word, VADER's negation and idiom checks lowercase the whole
        text's word list again, to read at most three words either side: a long post cost
        milliseconds. They are handed just that window (the checks only ever read inside
        it, at the same positions), so each stays constant-time. A test holds the scores
        equal to stock VADER's on every recorded text.
        """

        @staticmethod
        def _negation_check(valence: float, words: list[str], start_i: int, i: int) -> Any:
            lo = max(0, i - 3)
            return SentimentIntensityAnalyzer._negation_check(
                valence, words[lo : i + 1], start_i, i - lo
            )

        @staticmethod
        def _special_idioms_check(valence: float, words: list[str], i: int) -> Any:
            lo = max(0, i - 3)
            return SentimentIntensityAnalyzer._special_idioms_check(
                valence, words[lo : i + 3], i - lo
            )

    return Analyzer()


def stock_analyzer() -> Any:
    """Stock VADER, for tests and benchmarks that compare against it."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def label_of(compound: float) -> Label:
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def covers(lang: object) -> bool:
    """Whether an item with this ``lang`` is scored: English, or no known language."""
    if not isinstance(lang, str) or not lang.strip():
        return True
    code = lang.strip().lower().replace("_", "-")
    primary = code.split("-", 1)[0]
    return primary in COVERED or primary in _NO_LANGUAGE or bool(_PRIVATE_USE.match(primary))


def score(text: str) -> dict[str, Any] | None:
    """``{compound, label}`` of ``text``; ``None`` for a text with no words to read."""
    text = text[:MAX_CHARS]
    if not text.strip():
        return None
    compound = float(_analyzer().polarity_scores(text)["compound"])
    return {"compound": compound, "label": label_of(compound)}


def score_item(item: Mapping[str, Any], field: str) -> dict[str, Any] | None:
    """The sentiment of an item's ``field`` (``text``, a feed entry's ``title``), or
    ``None`` when it has none to give: no such text, or a language VADER does not read."""
    text = item.get(field)
    if not isinstance(text, str) or not covers(item.get("lang")):
        return None
    return score(text)


def scored(payload: dict[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """``payload`` with ``sentiment`` added to the item under each payload key of
    ``fields`` (payload key -> the item's text field). The item is copied, never changed in
    place; an item that carries a ``sentiment`` already keeps it (nothing is scored twice).
    """
    out = payload
    for key, field in fields.items():
        item = payload.get(key)
        if not isinstance(item, dict) or "sentiment" in item:
            continue
        result = score_item(item, field)
        if result is None:
            continue
        if out is payload:
            out = dict(payload)
        out[key] = {**item, "sentiment": result}
    return out
