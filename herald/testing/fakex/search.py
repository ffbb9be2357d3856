"""The stand-in's search: the part of X's query syntax herald's streams send, matched simply.

A query is a list of terms that must all hold (X's ``OR`` and brackets are not understood):

- ``word``: the tweet has that word, case-insensitively, as a whole word; ``#word`` and
  ``@word`` count too (X finds ``python`` in "I like #python").
- ``#tag``: the tweet has that hashtag (``#python`` does not match ``#pythonista``).
- ``@name``: the tweet mentions ``@name``.
- ``"a phrase"``: the tweet holds the phrase, case-insensitively.
- ``from:name`` / ``-from:name``: the author is / is not ``name``.
- ``-word``, ``-#tag``, ``-"a phrase"``: the tweet does not match that term.
- Any other ``operator:value`` (``lang:en``, ``filter:links``, ``since:…``) is ignored.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

_TOKENS = re.compile(r"[#@]?\w+")


def words_of(text: str) -> set[str]:
    """The words, ``#tags`` and ``@names`` in a text, lower case."""
    return set(_TOKENS.findall(text.lower()))


def _terms(raw_query: str) -> list[str]:
    try:
        return shlex.split(raw_query.lower())
    except ValueError:  # an unbalanced quote: X reads the words anyway
        return raw_query.lower().replace('"', " ").split()


@dataclass
class Term:
    """One term without its sign: a word, a tag, a mention or a phrase."""

    text: str

    def matches(self, text: str, words: set[str]) -> bool:
        if " " in self.text or not _TOKENS.fullmatch(self.text):
            return self.text in text  # a phrase, or a word with punctuation inside
        if self.text[0] in "#@":
            return self.text in words
        return bool({self.text, f"#{self.text}", f"@{self.text}"} & words)


@dataclass
class Query:
    mentions: set[str] = field(default_factory=set)
    authors: set[str] = field(default_factory=set)
    excluded_authors: set[str] = field(default_factory=set)
    required: list[Term] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    def matches(self, text: str, author: str) -> bool:
        lower, author = text.lower(), author.lower()
        words = words_of(lower)
        if self.authors and author not in self.authors:
            return False
        if author in self.excluded_authors:
            return False
        if not all(f"@{m}" in words for m in self.mentions):
            return False
        if not all(term.matches(lower, words) for term in self.required):
            return False
        return not any(term.matches(lower, words) for term in self.excluded)


def parse_query(raw_query: str) -> Query:
    query = Query()
    for token in _terms(raw_query):
        negative = token.startswith("-") and len(token) > 1
        body = token[1:] if negative else token
        if body.startswith("from:"):
            name = body[5:].lstrip("@")
            (query.excluded_authors if negative else query.authors).add(name)
        elif ":" in body and " " not in body:
            continue  # lang:en, filter:links, since:...: not the stand-in's business
        elif body.startswith("@") and not negative and len(body) > 1:
            query.mentions.add(body[1:])
        elif body:
            (query.excluded if negative else query.required).append(Term(body))
    return query
