"""Bluesky targets and search options: what is accepted, how it is normalised, what the
OpenAPI patterns promise, and that a search matches as subscription keyword filters do."""

from __future__ import annotations

import re
from typing import Any

import pytest

from herald.delivery.filters import parse_filter
from herald.errors import ValidationError
from herald.sources.bsky import search, targets
from herald.sources.catalog import stream_types


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("did:plc:ewvi7nxzyoun6zhxrhs64oiz", "did:plc:ewvi7nxzyoun6zhxrhs64oiz"),
        ("did:web:Example.COM", "did:web:example.com"),
        ("did:web:Example.test%3A8094", "did:web:example.test%3a8094"),
        ("@Alice.BSKY.social", "alice.bsky.social"),
        ("  bsky.app\n", "bsky.app"),
        ("xn--ls8h.test", "xn--ls8h.test"),
    ],
)
def test_accounts_are_normalised(given: str, stored: str) -> None:
    assert targets.actor(given) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "alice",
        "did:plc:short",
        "did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ",
        "did:key:z6Mk",
        "did:web:",
        "alice..test",
        "-alice.test",
        "alice.123",
        "a" * 64 + ".test",
        "https://bsky.app/profile/alice.test",
        "alice@bsky.social",
        None,
        7,
    ],
)
def test_bad_accounts_name_the_field(bad: Any) -> None:
    with pytest.raises(ValidationError, match=r"^target: "):
        targets.actor(bad)


@pytest.mark.parametrize(
    "matching",
    [
        "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
        "did:web:example.com",
        "@alice.bsky.social",
        " Alice.Test ",
        "a.b",
    ],
)
def test_what_the_actor_pattern_promises_is_accepted(matching: str) -> None:
    assert re.match(targets.ACTOR_PATTERN, matching)
    targets.actor(matching)


def test_queries() -> None:
    assert targets.query("  #python  ") == "#python"
    for bad in ("", "   ", "a\nb", "x" * 501, 3):
        with pytest.raises(ValidationError, match=r"^target: "):
            targets.query(bad)
    for ok in ("#python", "rust lang", "é" * 500, "  a  "):
        assert re.match(targets.QUERY_PATTERN, ok), ok
        targets.query(ok)
    assert not re.match(targets.QUERY_PATTERN, "   ")


def test_search_options() -> None:
    assert search.options({}) == {}
    assert search.options({"keywords": [" a ", "b", "a"], "keywordMode": "all"}) == {
        "keywords": ["a", "b"],
        "keywordMode": "all",
    }
    bad: list[dict[str, Any]] = [
        {"keywords": []},
        {"keywords": "python"},
        {"keywords": [""]},
        {"keywords": ["x" * 201]},
        {"keywords": [str(i) for i in range(101)]},
        {"keywordMode": "some"},
        {"caseSensitive": "yes"},
        {"wholeWord": 1},
        {"local": True},
    ]
    for options in bad:
        with pytest.raises(ValidationError, match=r"^options\."):
            search.options(options)


TEXTS = [
    "I love #Python and Rust",
    "pythonic code",
    "PYTHON!",
    "rust-lang: python",
    "nothing",
    "Ünïcode PYTHON straße",
    "",
]
OPTIONS: list[dict[str, Any]] = [
    {"keywords": ["python"]},
    {"keywords": ["Python"], "caseSensitive": True},
    {"keywords": ["python"], "wholeWord": True},
    {"keywords": ["python", "rust"], "keywordMode": "all"},
    {"keywords": ["#python", "straße"]},
    {"keywords": ["python", "rust"], "keywordMode": "all", "wholeWord": True},
]


@pytest.mark.parametrize("options", OPTIONS)
def test_search_matches_as_subscription_filters_do(options: dict[str, Any]) -> None:
    matcher = search.Matcher.build("unused", search.options(options))
    flt = parse_filter(options)
    assert flt is not None
    for text in TEXTS:
        body = {"post": {"id": "1", "text": text}}
        assert matcher(text) == flt(body), (options, text)


def test_without_keywords_the_target_is_the_keyword() -> None:
    matcher = search.Matcher.build("#Python", {})
    assert matcher("news about #python today") and not matcher("python")


def test_catalog_entries() -> None:
    catalog = stream_types()
    for name in ("bsky:post", "bsky:mention", "bsky:follower", "bsky:search"):
        entry = catalog.get(name)
        assert entry.platform == "bsky" and entry.mode == "push"
    assert catalog.get("bsky:post").target.validate("@Bsky.App") == "bsky.app"
    assert catalog.get("bsky:search").options({"keywords": ["x"]}) == {"keywords": ["x"]}
