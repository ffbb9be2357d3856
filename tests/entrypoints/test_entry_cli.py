"""``herald x post|delete|like|retweet|show|commands`` against a real server."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import Result
from typer.testing import CliRunner

from herald.cli import app
from tests.entrypoints.support import CommandServer, token

pytestmark = pytest.mark.timeout(60)


async def herald_x(server: CommandServer, *args: str, kind: str = "writer") -> Result:
    env = {"HERALD_URL": server.url, "HERALD_TOKEN": token(kind), "COLUMNS": "200"}
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, app, ["x", *args], env=env, prog_name="herald")


@pytest.mark.parametrize(
    ("args", "kind", "said"),
    [
        (["post", "hello world", "--reply-to", "5", "--quote", "6"], "post_tweet", "posted tweet"),
        (["delete", "201"], "delete_tweet", "deleted tweet 201"),
        (["like", "202"], "like_tweet", "liked tweet 202"),
        (["like", "203", "--undo"], "unlike_tweet", "unliked tweet 203"),
        (["retweet", "204"], "retweet", "retweeted tweet 204"),
        (["retweet", "205", "--undo"], "unretweet", "undid the retweet of tweet 205"),
    ],
)
async def test_every_command(server: CommandServer, args: list[str], kind: str, said: str) -> None:
    result = await herald_x(server, *args, "--command-id", f"cli-{kind}", "--account", "acc-3")
    assert result.exit_code == 0, result.output
    assert said in result.output and f"command cli-{kind}" in result.output
    stored = await server.commands.get(f"cli-{kind}")
    assert stored["type"] == kind and stored["accountId"] == "acc-3"
    if kind == "post_tweet":
        assert stored["data"] == {
            "text": "hello world",
            "reply_to_tweet_id": "5",
            "quote_tweet_id": "6",
        }
    again = await herald_x(server, *args, "--command-id", f"cli-{kind}", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout) == stored
    assert server.commands.executions[f"cli-{kind}"] == 1


async def test_a_command_id_is_made_when_none_is_given(server: CommandServer) -> None:
    result = await herald_x(server, "like", "300", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["id"].startswith("cli-") and answer["id"] in server.commands.records


async def test_outcomes_set_the_exit_code(server: CommandServer) -> None:
    failed = await herald_x(server, "like", "fail-1")
    assert failed.exit_code == 1 and "like_tweet failed: X refused it" in failed.output
    unsure = await herald_x(server, "post", "uncertain news", "--command-id", "u-1")
    assert unsure.exit_code == 3
    assert "outcome unknown" in unsure.output and "herald x show u-1" in unsure.output
    shown = await herald_x(server, "show", "u-1", kind="read-only")
    assert shown.exit_code == 0 and "outcome unknown" in shown.output
    server.commands.gate.clear()
    later = await herald_x(server, "retweet", "400", "--no-wait", "--command-id", "nw-1")
    assert later.exit_code == 0 and "accepted" in later.output
    server.commands.gate.set()
    listed = await herald_x(server, "commands", kind="read-only")
    assert listed.exit_code == 0 and "nw-1" in listed.output and "u-1" in listed.output


@pytest.mark.parametrize(
    ("setup", "kind", "message"),
    [
        ("writes-off", "writer", "start it with HERALD_ENABLE_WRITES=true"),
        ("rate", "writer", "retry in 4.0s"),
        ("paused", "writer", "see `herald accounts list`"),
        (None, "read-only", "'commands' scope and no streams claim (docs/auth.md)"),
        (None, "restricted", "(docs/auth.md)"),
    ],
)
async def test_refusals_are_one_clear_line(
    server: CommandServer, setup: str | None, kind: str, message: str
) -> None:
    if setup == "writes-off":
        server.commands.writes = False
    elif setup == "rate":
        server.commands.retry_after = 4.0
    elif setup == "paused":
        server.commands.paused.add("acc-1")
    result = await herald_x(server, "post", "hello", kind=kind)
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert len(result.output.strip().splitlines()) <= 2
    assert not server.commands.records


async def test_usage_errors(server: CommandServer) -> None:
    undo = await herald_x(server, "delete", "1", "--undo")
    assert undo.exit_code == 1 and "cannot be undone" in undo.output
    bad_id = await herald_x(server, "like", "1", "--command-id", "has space")
    assert bad_id.exit_code == 1 and "commandId" in bad_id.output
    unknown = await herald_x(server, "show", "nope")
    assert unknown.exit_code == 1 and "nope" in unknown.output
    nobody = await herald_x(server, "like", "1", kind="admin-key")
    assert nobody.exit_code == 0
    assert len(server.commands.records) == 1
