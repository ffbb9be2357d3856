"""Term matching and highlighting in Python: the in-memory twin's search, written to
agree with what SQLite FTS5 (unicode61) and Postgres (``simple``) find."""

from __future__ import annotations

import re
from collections.abc import Sequence

from herald.archive.base import MARK_CLOSE, MARK_OPEN, Term

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_CONTEXT = 12
"""Words of context around the first match in a highlight."""


def _spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group().lower()) for m in _TOKEN.finditer(text)]


def _matches(tokens: Sequence[str], term: Term) -> list[int]:
    """Start indexes in ``tokens`` where ``term`` matches."""
    n = len(term.words)
    found = []
    for i in range(len(tokens) - n + 1):
        ok = all(tokens[i + j] == term.words[j] for j in range(n - 1))
        last = tokens[i + n - 1]
        word = term.words[-1]
        if ok and (last.startswith(word) if term.prefix else last == word):
            found.append(i)
    return found


def match(text: str, terms: Sequence[Term]) -> str | None:
    """The highlight of ``text`` if every term is in it, else None."""
    spans = _spans(text)
    tokens = [s[2] for s in spans]
    marked: set[int] = set()
    for term in terms:
        starts = _matches(tokens, term)
        if not starts:
            return None
        for start in starts:
            marked.update(range(start, start + len(term.words)))
    if not spans:
        return text[:200]
    first = min(marked) if marked else 0
    lo, hi = max(first - _CONTEXT, 0), min(first + _CONTEXT * 2, len(spans))
    out: list[str] = ["…" if lo > 0 else ""]
    pos = spans[lo][0] if lo > 0 else 0
    for i in range(lo, hi):
        start, end, _ = spans[i]
        out.append(text[pos:start])
        word = text[start:end]
        out.append(f"{MARK_OPEN}{word}{MARK_CLOSE}" if i in marked else word)
        pos = end
    if hi < len(spans):
        out.append("…")
    else:
        out.append(text[pos:])
    return "".join(out)
