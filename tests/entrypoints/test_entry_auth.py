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
    ],
)
def test_bad_or_contradictory_scopes_are_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(AuthError):
        AUTH.authenticate(make_jwt(**claims))


def test_api_keys_and_auth_off_may_write() -> None:
    assert AUTH.authenticate(API_KEY).may_write
    assert ANONYMOUS.may_write
    assert Authenticator([], None).authenticate(None).may_write
