"""``herald stats`` and ``herald health``: the server's state at a glance."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from herald.cli import render
from herald.cli.common import DEFAULT, JsonOpt, TokenOpt, UrlOpt, connect, out, print_json


def stats(url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """Totals across streams: by status and type, events by type, polls and errors."""
    with connect(url, token) as client:
        answer: dict[str, Any] = client.get("/api/streams/stats")
    if json_out:
        print_json(answer)
        return
    scalars = {k: v for k, v in answer.items() if not isinstance(v, dict)}
    out.print(render.mapping_table("streams", scalars))
    for key, title in (
        ("byType", "streams by type"),
        ("eventsByType", "events by type"),
        ("errorsByKind", "errors by kind"),
    ):
        if answer.get(key):
            out.print(render.mapping_table(title, answer[key]))


def health(url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """Redis, scheduler, delivery and overdue streams. Exits 1 when herald is degraded."""
    with connect(url, token) as client:
        report: dict[str, Any] = client.get("/api/health", ok=(503,))
    healthy = bool(report.get("healthy"))
    if json_out:
        print_json(report)
    else:
        table = Table(title=f"herald at {url}", title_justify="left", show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for name, value in (report.get("checks") or {}).items():
            good = value in ("ok", 0)
            table.add_row(escape(name), f"[{'green' if good else 'red'}]{escape(str(value))}[/]")
        out.print(table)
        if report.get("overdue"):
            out.print("overdue: " + ", ".join(map(str, report["overdue"])), markup=False)
        out.print("[green]healthy[/]" if healthy else "[red]degraded[/]")
    if not healthy:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(stats)
    app.command()(health)
