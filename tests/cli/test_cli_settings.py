"""A bad environment value stops ``herald serve`` and ``herald worker`` with one line on
stderr (the variable, what is wrong, what is allowed) and exit code 2, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.service.support import clean_env, run_cli

CASES = [
    (
        "serve",
        {"HERALD_LOG_MAXLEN": "20"},
        "invalid HERALD_LOG_MAXLEN='20': must be at least 100 "
        "(allowed: a whole number, 100 or more)",
    ),
    (
        "serve",
        {"HERALD_JITTER": "lots"},
        "invalid HERALD_JITTER='lots': not a number (allowed: a number, 0 to 0.5)",
    ),
    (
        "serve",
        {"HERALD_PORT": "70000"},
        "invalid HERALD_PORT='70000': must be at most 65535 (allowed: a whole number, 1 to 65535)",
    ),
    (
        "worker",
        {"REDIS_URL": "redis://127.0.0.1:6379/0", "HERALD_SHUTDOWN_TIMEOUT": "-1"},
        "invalid HERALD_SHUTDOWN_TIMEOUT='-1': must be at least 0 (allowed: a whole number, "
        "0 to 600)",
    ),
    (
        "worker",
        {"REDIS_URL": "redis://127.0.0.1:6379/0", "HERALD_X_TRANSACTION_ID": "maybe"},
        "invalid HERALD_X_TRANSACTION_ID='maybe': not true, false or auto "
        "(allowed: see docs/configuration.md)",
    ),
    (
        "serve",
        {"HERALD_MIN_INTERVAL": "120"},
        "invalid settings: HERALD_MIN_INTERVAL <= HERALD_DEFAULT_INTERVAL <= HERALD_MAX_INTERVAL "
        "must hold (got 120, 60, 3600)",
    ),
]


@pytest.mark.parametrize(("command", "bad", "expected"), CASES)
def test_a_bad_value_is_one_line_and_exit_2(
    tmp_path: Path, command: str, bad: dict[str, str], expected: str
) -> None:
    env = clean_env(HERALD_DATA_DIR=str(tmp_path / "data"), **bad)
    done = run_cli(command, env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"error: {expected}\n"
    assert done.stdout == ""
    assert not (tmp_path / "data").exists(), "nothing may start on bad settings"


def test_several_bad_values_share_the_line(tmp_path: Path) -> None:
    env = clean_env(HERALD_DATA_DIR=str(tmp_path), HERALD_LOG_MAXLEN="1", HERALD_MAX_ERRORS="x")
    done = run_cli("serve", env=env)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "HERALD_LOG_MAXLEN='1'" in done.stderr and "HERALD_MAX_ERRORS='x'" in done.stderr
