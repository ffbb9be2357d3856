"""``herald mcp``: the MCP server on stdio, for AI agents, driving a running herald over REST."""

from __future__ import annotations

import typer

from herald.cli.common import DEFAULT, TokenOpt, UrlOpt


def mcp(url: UrlOpt = DEFAULT, token: TokenOpt = None) -> None:
    """Serve the x_stream_* tools over stdio (add this command to your MCP client's config)."""
    from herald.mcp import run_stdio

    run_stdio(url, token)


def register(app: typer.Typer) -> None:
    app.command()(mcp)
