"""``herald accounts ...`` and stream tokens: secrets go in from files or stdin, never come out."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result

from tests.cli.conftest import Invoke

COOKIE = "auth_token=9f8e7d6c5b4a39281706f5e4d3c2b1a0; ct0=abcdef0123456789"
COOKIE2 = "auth_token=11223344556677889900aabbccddeeff"
STREAM_TOKEN = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def text(result: Result) -> str:
    return result.stdout + result.stderr


async def test_add_list_remove_without_ever_printing_the_cookie(
    cli: Invoke, tmp_path: Path
) -> None:
    outputs: list[str] = []
    cookie_file = tmp_path / "cookie"
    cookie_file.write_text(COOKIE + "\n")

    added = await cli("accounts", "add", "--cookie-file", str(cookie_file), "--label", "main")
    outputs.append(text(added))
    assert added.exit_code == 0 and "added account" in added.stdout and "(main)" in added.stdout

    piped = await cli("accounts", "add", "--label", "piped", "--json", input=COOKIE2 + "\n")
    outputs.append(text(piped))
    assert piped.exit_code == 0
    second = json.loads(piped.stdout)
    assert second["label"] == "piped" and "cookie" not in second

    listed = await cli("accounts", "list", "--json")
    outputs.append(text(listed))
    assert listed.exit_code == 0
    body = json.loads(listed.stdout)
    assert body["count"] == 2 and {a["label"] for a in body["accounts"]} == {"main", "piped"}

    table = await cli("accounts", "list")
    outputs.append(text(table))
    assert table.exit_code == 0 and second["id"] in table.stdout and "piped" in table.stdout

    removed = await cli("accounts", "remove", second["id"], "--json")
    outputs.append(text(removed))
    assert json.loads(removed.stdout) == {"success": True, "accountId": second["id"]}
    again = await cli("accounts", "remove", second["id"])
    outputs.append(text(again))
    assert again.exit_code == 1 and "no account with id" in again.stderr

    secrets = (COOKIE, COOKIE2, "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "abcdef0123456789")
    for secret in (*secrets, COOKIE2.split("=")[1]):
        assert all(secret not in out for out in outputs)


async def test_cookie_is_required(cli: Invoke, tmp_path: Path) -> None:
    empty = await cli("accounts", "add", input="")
    assert empty.exit_code == 2 and "no cookie given" in empty.stderr
    blank = tmp_path / "blank"
    blank.write_text("\n")
    from_file = await cli("accounts", "add", "--cookie-file", str(blank))
    assert from_file.exit_code == 1 and "is empty" in from_file.stderr
    missing = await cli("accounts", "add", "--cookie-file", str(tmp_path / "nope"))
    assert missing.exit_code == 1 and "cannot read cookie" in missing.stderr


async def test_stream_token_comes_from_a_file_and_is_never_printed(
    cli: Invoke, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(STREAM_TOKEN)
    outputs: list[str] = []
    started = await cli(
        "streams", "start", "-t", "mention", "-u", "nasa", "--auth-token-file", str(token_file),
        "--json",
    )  # fmt: skip
    outputs.append(text(started))
    assert started.exit_code == 0, text(started)
    sid = json.loads(started.stdout)["id"]
    for args in (
        ("streams", "list"),
        ("streams", "list", "--json"),
        ("streams", "status", sid),
        ("streams", "status", sid, "--json"),
        ("streams", "history", sid, "--json"),
        ("accounts", "list", "--json"),
        ("streams", "update", sid, "--auth-token-file", "-", "--json"),
    ):
        result = await cli(*args, input=STREAM_TOKEN + "x\n")
        assert result.exit_code == 0, (args, text(result))
        outputs.append(text(result))
    assert all(STREAM_TOKEN not in out for out in outputs)
