"""Targets: user@instance, tag@instance, instance; https, and http for loopback only."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis.strategies import from_regex

from herald.errors import ValidationError
from herald.sources.mastodon import targets


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Gargron@mastodon.social", "gargron@mastodon.social"),
        ("@alice@Example.ORG", "alice@example.org"),
        (" bob@127.0.0.1:8093 ", "bob@127.0.0.1:8093"),
        ("carol@[::1]:8093", "carol@[::1]:8093"),
    ],
)
def test_accounts(value: str, expected: str) -> None:
    assert targets.account(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "alice",
        "alice@",
        "@mastodon.social",
        "a b@x.org",
        "alice@https://x.org",
        "alice@x.org/p",
        "alice@x.org:0",
        "alice@x.org:70000",
        "alice@-x.org",
        "alice@::1",
        7,
        None,
        "a" * 400,
    ],
)
def test_bad_accounts_name_the_target(value: object) -> None:
    with pytest.raises(ValidationError, match=r"^target:"):
        targets.account(value)


def test_hashtags_and_instances() -> None:
    assert targets.hashtag("#Python@mastodon.social") == "python@mastodon.social"
    assert targets.hashtag("日本語@mstdn.jp") == "日本語@mstdn.jp"
    assert targets.instance("Mastodon.Social") == "mastodon.social"
    assert targets.instance("localhost:3000") == "localhost:3000"
    assert targets.account_or_instance("me@x.org") == "me@x.org"
    assert targets.account_or_instance("x.org") == "x.org"
    for bad in ("#@x.org", "tag with space@x.org", "py-thon@x.org"):
        with pytest.raises(ValidationError, match="target"):
            targets.hashtag(bad)
    for bad in ("https://x.org", "x.org/about", "", "a@x.org"):
        with pytest.raises(ValidationError, match="target"):
            targets.instance(bad)


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("a@mastodon.social", "https://mastodon.social"),
        ("a@127.0.0.1:8093", "http://127.0.0.1:8093"),
        ("a@localhost:3000", "http://localhost:3000"),
        ("a@[::1]:9", "http://[::1]:9"),
        ("a@10.0.0.1", "https://10.0.0.1"),
        ("a@localhost.example.org", "https://localhost.example.org"),
    ],
)
def test_https_except_for_loopback(target: str, url: str) -> None:
    assert targets.split_target(target)[1].base_url == url


@pytest.mark.parametrize(
    ("pattern", "validate"),
    [
        (targets.ACCOUNT_PATTERN, targets.account),
        (targets.TAG_PATTERN, targets.hashtag),
        (targets.INSTANCE_PATTERN, targets.instance),
        (targets.OWN_ACCOUNT_PATTERN, targets.account_or_instance),
    ],
)
def test_whatever_the_openapi_pattern_allows_is_accepted(pattern: str, validate: Any) -> None:
    """The schema promises; the validator keeps the promise (the API fuzz relies on it)."""

    @settings(max_examples=300, deadline=None)
    @given(from_regex(pattern, fullmatch=True))
    def check(text: str) -> None:
        validate(text)

    check()
