"""``herald stats``, ``herald health``, ``herald tail`` and shell completion."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from herald.cli import app
from tests.cli.conftest import Invoke


async def test_stats_as_json_and_tables(cli: Invoke) -> None:
    await cli("streams", "start", "-t", "tweet", "-u", "nasa")
    await cli("streams", "start", "-t", "follower", "-u", "nasa")
    stats = await cli("stats", "--json")
    assert stats.exit_code == 0
    body = json.loads(stats.stdout)
    assert body["total"] == 2 and body["byType"] == {"tweet": 1, "follower": 1}
    table = await cli("stats")
    assert table.exit_code == 0
    assert "total" in table.stdout and "streams by type" in table.stdout


async def test_health_reports_checks(cli: Invoke) -> None:
    result = await cli("health", "--json")
    body = json.loads(result.stdout)
    assert body["checks"]["redis"] == "ok"
    assert result.exit_code == (0 if body["healthy"] else 1)
    human = await cli("health")
    assert "redis" in human.stdout and ("healthy" in human.stdout or "degraded" in human.stdout)


async def test_tail_is_registered(cli: Invoke) -> None:
    helped = await cli("tail", "--help")
    assert helped.exit_code == 0 and "--since" in helped.stdout and "--type" in helped.stdout
    if importlib.util.find_spec("herald.delivery.terminal") is None:
        missing = await cli("tail")
        assert missing.exit_code == 1 and "not available" in missing.stderr


def test_show_completion_prints_a_bash_script() -> None:
    result = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="herald")
    assert result.exit_code == 0
    assert "_HERALD_COMPLETE=complete_bash" in result.stdout
    assert "complete -o default -F" in result.stdout


def test_completion_env_var_completes_commands_and_options() -> None:
    """What the installed script runs on <TAB>: the console script with _HERALD_COMPLETE."""
    herald = Path(sys.executable).with_name("herald")
    command = [str(herald)] if herald.exists() else [sys.executable, "-m", "herald.cli"]

    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "_HERALD_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        }
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert "streams" in complete("herald str")
    assert {"start", "stop", "status"} <= set(complete("herald streams st"))
    assert "--interval" in complete("herald streams start --int")
