"""``herald accounts ...``: the X session cookies herald polls with, stored encrypted.

A cookie is read from a file or from stdin without echo, never from argv (where ``ps``
and shell history would keep it), and no command ever prints it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from herald.cli import render
from herald.cli.common import (
    DEFAULT,
    JsonOpt,
    TokenOpt,
    UrlOpt,
    connect,
    fail,
    out,
    print_json,
    read_secret_file,
)

app = typer.Typer(name="accounts", help="Add, list and remove X accounts.", no_args_is_help=True)


def _read_cookie(cookie_file: Path | None) -> str:
    if cookie_file is not None:
        return read_secret_file(cookie_file, "cookie")
    if sys.stdin.isatty():
        value = str(typer.prompt("X cookie (auth_token or Cookie header)", hide_input=True))
    else:
        value = sys.stdin.read()
    value = value.strip()
    if not value:
        fail("no cookie given: use --cookie-file F or pipe it on stdin", code=2)
    return value


@app.command()
def add(
    cookie_file: Annotated[
        Path | None,
        typer.Option(
            "--cookie-file",
            help="File with the auth_token value or a Cookie header ('-' for stdin). "
            "Without it the cookie is read from stdin without echo.",
            dir_okay=False,
        ),
    ] = None,
    label: Annotated[str | None, typer.Option(help="A name to recognise it by.")] = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Store an X session cookie (encrypted on the server) for streams to poll with."""
    cookie = _read_cookie(cookie_file)
    body: dict[str, Any] = {"cookie": cookie}
    if label is not None:
        body["label"] = label
    with connect(url, token, [cookie]) as client:
        account = client.post("/api/accounts", body)
    if json_out:
        print_json(account)
        return
    name = f" ({account['label']})" if account.get("label") else ""
    out.print(f"added account {account.get('id')}{name}", markup=False)


@app.command("list")
def list_(url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """The stored accounts with their health; cookies are never shown."""
    with connect(url, token) as client:
        answer = client.get("/api/accounts")
    if json_out:
        print_json(answer)
        return
    accounts: list[dict[str, Any]] = answer.get("accounts", [])
    if not accounts:
        out.print("no accounts; add one with `herald accounts add --cookie-file F`")
        return
    table = Table(title=f"{len(accounts)} account(s)", title_justify="left")
    for column in ("id", "label", "health", "reason", "added", "last used"):
        table.add_column(column)
    for a in accounts:
        health = str(a.get("health") or "?")
        table.add_row(
            _cell(a.get("id")),
            _cell(a.get("label")),
            f"[{'green' if health == 'ok' else 'red'}]{escape(health)}[/]",
            _cell(a.get("healthReason")),
            render.when(a.get("addedAt")),
            render.when(a.get("lastUsed")),
        )
    out.print(table)


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else escape(str(value))


@app.command()
def remove(
    account_id: Annotated[str, typer.Argument(help="The account's id (see `accounts list`).")],
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Forget a stored account."""
    with connect(url, token) as client:
        result = client.delete(f"/api/accounts/{account_id}")
    if json_out:
        print_json(result)
        return
    out.print(f"removed account {account_id}", markup=False)
