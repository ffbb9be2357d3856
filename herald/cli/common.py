"""What every REST command shares: connection options, ``--json``, and failing in one line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from herald.cli.client import DEFAULT_URL, CliError, HeraldClient
from herald.config import Settings, load_settings
from herald.errors import ConfigError

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

_CONNECTION = "Connection"

UrlOpt = Annotated[
    str,
    typer.Option(
        "--url",
        envvar="HERALD_URL",
        help="The herald server to talk to.",
        rich_help_panel=_CONNECTION,
    ),
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="HERALD_TOKEN",
        help="API key, when the server sets HERALD_API_KEYS. Prefer the env var to argv.",
        show_default=False,
        rich_help_panel=_CONNECTION,
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the server's JSON answer (for scripts).")
]
DEFAULT = DEFAULT_URL


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit non-zero."""
    err.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def load_settings_or_exit() -> Settings:
    """The settings from the environment; a bad value is one line on stderr and exit 2."""
    try:
        return load_settings()
    except ConfigError as exc:
        fail(exc.detail, code=2)


@contextmanager
def connect(url: str, token: str | None, secrets: Iterable[str] = ()) -> Iterator[HeraldClient]:
    """A client for the duration of a command; its errors become one-line exits."""
    try:
        with HeraldClient(url, token, secrets=secrets) as client:
            yield client
    except CliError as exc:
        fail(exc.message)


def print_json(data: Any) -> None:
    """Plain JSON on stdout: no colour, no wrapping, so scripts can parse it."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def read_secret_file(path: Path, what: str) -> str:
    """A secret from a file (``-`` for stdin), stripped; never from argv, so it stays off ps."""
    try:
        raw = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {what} from {path}: {exc.strerror or exc}")
    value = raw.strip()
    if not value:
        fail(f"{what} file {path} is empty")
    return value
