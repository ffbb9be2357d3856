"""``bsky:search``: which live posts a search stream keeps.

The rules are those of herald's subscription keyword filters
(:mod:`herald.delivery.filters`), so a search stream and a filtered subscription agree on
what matches: ``keywords`` are literals, matched case-insensitively unless
``caseSensitive``, as substrings unless ``wholeWord`` (then between word boundaries), any
of them (``keywordMode: any``, the default) or all of them (``all``). Without
``keywords``, the stream's target (the search text) is the one keyword.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from herald.errors import ValidationError

MAX_TERMS = 100
MAX_TERM_LEN = 200
OPTIONS = ("keywords", "keywordMode", "caseSensitive", "wholeWord")
OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "keywords": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_TERMS,
            "items": {"type": "string", "minLength": 1, "maxLength": MAX_TERM_LEN},
        },
        "keywordMode": {"enum": ["any", "all"]},
        "caseSensitive": {"type": "boolean"},
        "wholeWord": {"type": "boolean"},
    },
}
OPTION_DOCS = {
    "keywords": "words, #hashtags or phrases to match in a post's text (default: the target)",
    "keywordMode": '"any" (default): one keyword is enough; "all": every keyword',
    "caseSensitive": "match letter case exactly (default false)",
    "wholeWord": "match keywords only between word boundaries (default false)",
}


def options(value: Mapping[str, Any]) -> dict[str, Any]:
    """Checks and normalises a search stream's ``options``."""
    unknown = sorted(set(value) - set(OPTIONS))
    if unknown:
        raise ValidationError(
            f"options.{unknown[0][:64]}: unknown option (known: {', '.join(OPTIONS)})"
        )
    out: dict[str, Any] = {}
    if "keywords" in value:
        terms = value["keywords"]
        if (
            not isinstance(terms, list)
            or not terms
            or not all(isinstance(t, str) and t.strip() for t in terms)
        ):
            raise ValidationError("options.keywords: must be a non-empty list of non-empty strings")
        if len(terms) > MAX_TERMS:
            raise ValidationError(f"options.keywords: at most {MAX_TERMS} keywords")
        if any(len(t) > MAX_TERM_LEN for t in terms):
            raise ValidationError(f"options.keywords: at most {MAX_TERM_LEN} characters each")
        out["keywords"] = list(dict.fromkeys(t.strip() for t in terms))
    mode = value.get("keywordMode", "any")
    if mode not in ("any", "all"):
        raise ValidationError('options.keywordMode: must be "any" or "all"')
    if "keywordMode" in value:
        out["keywordMode"] = mode
    for flag in ("caseSensitive", "wholeWord"):
        if flag in value:
            if not isinstance(value[flag], bool):
                raise ValidationError(f"options.{flag}: must be true or false")
            out[flag] = value[flag]
    return out


@dataclass(frozen=True, slots=True)
class Matcher:
    """One search stream's compiled keywords."""

    terms: tuple[str, ...]
    require_all: bool
    case_sensitive: bool
    patterns: tuple[re.Pattern[str], ...] | None
    """Word-boundary regexes when ``wholeWord``; None: plain substrings."""

    @classmethod
    def build(cls, target: str, opts: Mapping[str, Any]) -> Matcher:
        case_sensitive = bool(opts.get("caseSensitive", False))
        raw: Sequence[str] = opts.get("keywords") or [target]
        terms = tuple(sorted({t if case_sensitive else t.lower() for t in raw}))
        patterns = None
        if opts.get("wholeWord", False):
            flags = 0 if case_sensitive else re.IGNORECASE
            # escaped literals between word boundaries: linear, cannot backtrack badly
            patterns = tuple(re.compile(rf"(?<!\w){re.escape(t)}(?!\w)", flags) for t in terms)
        return cls(terms, opts.get("keywordMode") == "all", case_sensitive, patterns)

    def __call__(self, text: str, lowered: str | None = None) -> bool:
        """Whether ``text`` matches (``lowered``: its lower-case form, if already made)."""
        combine = all if self.require_all else any
        if self.patterns is not None:
            return combine(p.search(text) is not None for p in self.patterns)
        hay = text if self.case_sensitive else (lowered if lowered is not None else text.lower())
        return combine(t in hay for t in self.terms)
