"""Who may write: the ``scope`` claim read by the authenticator (docs/auth.md)."""

from __future__ import annotations

from typing import Any

import pytest

from herald.auth import ANONYMOUS, Authenticator
from herald.commands.entry import check_writer
from herald.errors import AuthError, Forbidden
from tests.auth.auth_support import API_KEY, SECRET, make_jwt

AUTH = Authenticator([API_KEY], SECRET)


@pytest.mark.parametrize(
    ("claims", "writes"),
    [
        ({"scope": "commands"}, True),
        ({"scope": "read commands"}, True),
        ({"scope": ["commands"]}, True),
        ({"admin": True}, True),
        ({}, False),
        ({"scope": "read"}, False),
        ({"scope": "read-only"}, False),
        ({"scope": ["read-only"], "streams": ["a"]}, False),
        ({"scope": "Commands"}, False),
        ({"scope": "commands-extra"}, False),
        ({"scope": ""}, False),
        ({"streams": ["a"]}, False),
        ({"streams": []}, False),
    ],
)
def test_the_scope_claim_decides(claims: dict[str, Any], writes: bool) -> None:
    principal = AUTH.authenticate(make_jwt(**claims))
    assert principal.may_write is writes
    if not writes:
        with pytest.raises(Forbidden):
            check_writer(principal)


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": {"commands": True}},
        {"scope": 1},
        {"scope": ["commands", 2]},
        {"streams": ["a"], "scope": "commands"},
        {"streams": [], "scope": ["read", "commands"]},
        {"scope": "read-only commands"},
        {"scope": ["read-only"], "admin": True},
    ],
)
def test_bad_or_contradictory_scopes_are_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(AuthError):
        AUTH.authenticate(make_jwt(**claims))


def test_api_keys_and_auth_off_may_write() -> None:
    assert AUTH.authenticate(API_KEY).may_write
    assert ANONYMOUS.may_write
    assert Authenticator([], None).authenticate(None).may_write


def test_a_read_key_reads_and_writes_nothing() -> None:
    auth = Authenticator([API_KEY], SECRET, ["a-read-only-key-0123456789abcdef"])
    reader = auth.authenticate("a-read-only-key-0123456789abcdef")
    assert reader.read_only and reader.all_streams and not reader.admin
    assert not reader.may_write
    assert API_KEY not in reader.subject and "0123456789abcdef" not in reader.subject
    admin = auth.authenticate(API_KEY)
    assert admin.admin and not admin.read_only
    with pytest.raises(AuthError):
        auth.authenticate("a-read-only-key-0123456789abcdeX")
