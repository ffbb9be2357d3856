"""The ``herald`` command. Server-side commands live in ``server.py``; the commands that
talk to a running server over REST live beside it, one module per group."""

from __future__ import annotations

import typer

from herald.cli import (
    accounts,
    alerts,
    archive,
    mcp,
    pipelines,
    server,
    standins,
    streams,
    system,
    tail,
    webhooks,
    x,
)

app = typer.Typer(
    name="herald",
    help="herald: real-time social monitoring. Watch X accounts; get every change once.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
server.register(app)
standins.register(app)

# --- commands that talk to a running server over REST -------------------------------
app.add_typer(streams.app)
app.add_typer(accounts.app)
system.register(app)
tail.register(app)
mcp.register(app)
pipelines.register(app)
alerts.register(app)
x.register(app)
webhooks.register(app)
archive.register(app)


def main() -> None:
    app()
