"""``herald search`` and ``herald export``: the archive, over REST.

Both take the REST filters as options (``--platform``, ``--type``, ``--stream``, ``--from``,
``--to``). Progress goes to stderr, and only on a terminal or with ``--progress``, so the
output stays clean in a pipe or a file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from herald.cli.common import (
    DEFAULT,
    JsonOpt,
    TokenOpt,
    UrlOpt,
    connect,
    err,
    fail,
    out,
    print_json,
)

PlatformOpt = Annotated[
    list[str] | None, typer.Option("--platform", "-p", help="Only this platform (repeatable).")
]
TypeOpt = Annotated[
    list[str] | None,
    typer.Option("--type", "-t", help="Only this event type, e.g. stream:post:new (repeatable)."),
]
StreamOpt = Annotated[
    list[str] | None, typer.Option("--stream", "-s", help="Only this stream id (repeatable).")
]
FromOpt = Annotated[
    str | None,
    typer.Option("--from", help="From this time: ISO 8601 (UTC unless it says) or epoch ms."),
]
ToOpt = Annotated[str | None, typer.Option("--to", help="Up to (not including) this time.")]
ProgressOpt = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Show progress on stderr (default: only when stderr is a terminal).",
        show_default=False,
    ),
]
_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def _filters(
    platform: list[str] | None,
    type_: list[str] | None,
    stream: list[str] | None,
    since: str | None,
    until: str | None,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, values in (("platform", platform), ("type", type_), ("streamId", stream)):
        if values:
            params[name] = ",".join(values)
    if since:
        params["from"] = since
    if until:
        params["to"] = until
    return params


def _show_progress(flag: bool | None) -> bool:
    return sys.stderr.isatty() if flag is None else flag


def _highlight(text: str) -> str:
    """``<mark>`` as bold, everything else printed literally."""
    parts = _MARK.split(text)
    return "".join(
        escape(p) if i % 2 == 0 else f"[bold yellow]{escape(p)}[/]" for i, p in enumerate(parts)
    )


def search(
    query: Annotated[str, typer.Argument(help='Words (all required), "a phrase", prefix*.')] = "",
    platform: PlatformOpt = None,
    type_: TypeOpt = None,
    stream: StreamOpt = None,
    since: FromOpt = None,
    until: ToOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many hits.")] = 20,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="Continue after a page (its `cursor`).")
    ] = None,
    progress: ProgressOpt = None,
    json_out: JsonOpt = False,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
) -> None:
    """Search every archived event (also those the live log has dropped), newest first."""
    params = {"q": query, **_filters(platform, type_, stream, since, until)}
    hits: list[dict[str, Any]] = []
    next_cursor = cursor
    with (
        connect(url, token) as client,
        Progress(
            SpinnerColumn(),
            TextColumn("searching"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} hits"),
            console=err,
            transient=True,
            disable=not _show_progress(progress),
        ) as bar,
    ):
        task = bar.add_task("search", total=limit)
        while len(hits) < limit:
            page_params = {**params, "limit": min(limit - len(hits), 200)}
            if next_cursor:
                page_params["cursor"] = next_cursor
            page = client.get("/api/search", params=page_params)
            hits.extend(page["results"])
            bar.update(task, completed=len(hits))
            next_cursor = page.get("cursor")
            if not next_cursor:
                break
    if json_out:
        print_json({"results": hits, "count": len(hits), "cursor": next_cursor})
        return
    if not hits:
        err.print("no archived event matches")
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("detected", "type", "stream", "text"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        event = hit["event"]
        table.add_row(
            escape(str(event.get("detectedAt", ""))),
            escape(str(event.get("type", ""))),
            escape(str(event.get("streamId", ""))),
            _highlight(str(hit.get("highlight", ""))),
        )
    out.print(table)
    if next_cursor:
        err.print(f"more: --cursor {next_cursor}")


def export(
    query: Annotated[
        str, typer.Option("--query", "-q", help="Only events matching this search.")
    ] = "",
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or jsonl.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    platform: PlatformOpt = None,
    type_: TypeOpt = None,
    stream: StreamOpt = None,
    since: FromOpt = None,
    until: ToOpt = None,
    progress: ProgressOpt = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
) -> None:
    """Stream every archived event matching the filters, oldest first, as CSV or JSON lines."""
    if fmt not in ("csv", "jsonl"):
        fail("--format: csv or jsonl")
    params = {"format": fmt, **_filters(platform, type_, stream, since, until)}
    if query:
        params["q"] = query
    target: BinaryIO
    try:
        target = output.open("wb") if output is not None else sys.stdout.buffer
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    written = 0
    rows = 0
    try:
        with (
            connect(url, token) as client,
            client.stream("/api/export", params) as answer,
            Progress(
                SpinnerColumn(),
                TextColumn("exporting"),
                TextColumn("{task.fields[rows]} events, {task.completed:,.0f} bytes"),
                TimeElapsedColumn(),
                console=err,
                disable=not _show_progress(progress),
            ) as bar,
        ):
            task = bar.add_task("export", total=None, rows=0)
            for chunk in answer.iter_bytes():
                target.write(chunk)
                written += len(chunk)
                rows += chunk.count(b"\n")
                bar.update(task, completed=written, rows=rows - (1 if fmt == "csv" else 0))
    finally:
        if output is not None:
            target.close()
        else:
            target.flush()
    if output is not None:
        count = rows - (1 if fmt == "csv" and rows else 0)
        err.print(f"wrote {count} events to {escape(str(output))}")


def register(root: typer.Typer) -> None:
    root.command("search")(search)
    root.command("export")(export)
