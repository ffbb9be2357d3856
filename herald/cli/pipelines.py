"""``herald pipelines ...`` (list, status, pause, resume, replay) and ``herald replay``.

``herald replay FROM TO --speed x10`` prints the log's events between two points (offsets,
times or ``-24h``) paced like they happened, at real time, N times faster, or at once.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from herald.cli import render
from herald.cli.client import HeraldClient
from herald.cli.common import DEFAULT, JsonOpt, TokenOpt, UrlOpt, connect, fail, out, print_json
from herald.errors import ValidationError
from herald.pipeline.runtime.replay import parse_bound, parse_speed

app = typer.Typer(
    name="pipelines", help="Running pipelines: status, pause, resume, replay.", no_args_is_help=True
)
NameArg = Annotated[str, typer.Argument(help="The pipeline's name (see `pipelines list`).")]


def _path(name: str, action: str = "") -> str:
    return f"/api/pipelines/{name}" + (f"/{action}" if action else "")


@app.command("list")
def list_(url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """The declared pipelines: status, owner, lag, rates, errors."""
    with connect(url, token) as client:
        answer = client.get("/api/pipelines")
    if json_out:
        print_json(answer)
        return
    found: list[dict[str, Any]] = answer.get("pipelines", [])
    if not found:
        out.print("no pipelines; declare some with HERALD_PIPELINES (see docs/pipelines.md)")
        return
    table = Table(title=f"{len(found)} pipeline(s)", title_justify="left")
    for column in ("name", "status", "owner", "lag", "in/s", "out/s", "errors", "dead", "state"):
        table.add_column(column)
    for p in found:
        table.add_row(
            escape(p["name"]),
            escape(p["status"]),
            escape(str(p.get("owner") or "-")),
            str(p.get("lag") if p.get("lag") is not None else "-"),
            f"{p['rates']['in']:.1f}",
            f"{p['rates']['out']:.1f}",
            str(p["counters"].get("errors", 0)),
            str(p.get("deadLetters", 0)),
            f"{p.get('stateSize', 0)} B",
        )
    out.print(table)


@app.command()
def status(
    name: NameArg, url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False
) -> None:
    """One pipeline in full: lag, rates, errors, state size, dead letters, owner."""
    with connect(url, token) as client:
        answer = client.get(_path(name))
    if json_out:
        print_json(answer)
        return
    shown = {
        k: answer.get(k)
        for k in (
            "status",
            "owner",
            "offset",
            "lag",
            "pending",
            "watermark",
            "stateSize",
            "deadLetters",
            "late",
            "error",
            "lagError",
            "pausedReason",
            "committedAt",
        )
    }
    shown.update({f"count {k}": v for k, v in answer.get("counters", {}).items()})
    shown.update({f"rate {k}/s": v for k, v in answer.get("rates", {}).items()})
    out.print(
        render.mapping_table(
            f"pipeline {name}", {k: "-" if v is None else v for k, v in shown.items()}
        )
    )
    for letter in answer.get("recentDeadLetters", [])[:10]:
        out.print(
            f"[red]dead[/] {escape(str(letter.get('offset')))}: {escape(str(letter.get('error')))}"
        )


@app.command()
def pause(name: NameArg, url: UrlOpt = DEFAULT, token: TokenOpt = None) -> None:
    """Stop processing (the owner finishes its batch); resume carries on where it stopped."""
    with connect(url, token) as client:
        client.post(_path(name, "pause"))
    out.print(f"paused pipeline {name}", markup=False)


@app.command()
def resume(name: NameArg, url: UrlOpt = DEFAULT, token: TokenOpt = None) -> None:
    """Run again (after a state error, the state is tried again, never reset)."""
    with connect(url, token) as client:
        client.post(_path(name, "resume"))
    out.print(f"resumed pipeline {name}", markup=False)


@app.command("replay")
def replay_pipeline(
    name: NameArg,
    from_: Annotated[str | None, typer.Option("--from", help="Offset, time or -24h.")] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Offset, time or -1h (default: now).")
    ] = None,
    dead_letters: Annotated[
        bool, typer.Option("--dead-letters", help="Retry the dead letters.")
    ] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Drop the state and read again from --from.")
    ] = False,
    limit: Annotated[int, typer.Option(help="Outputs to show.", min=1, max=1000)] = 100,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the pipeline over a past part of the log and show its outputs (a dry run: nothing
    is appended); or retry its dead letters; or reset it to read again from a point."""
    body: dict[str, Any] = {}
    if dead_letters:
        body["deadLetters"] = True
    else:
        if from_ is None:
            fail("give --from (or --dead-letters)", code=2)
        body["from"] = from_
        if reset:
            body["reset"] = True
        else:
            body["limit"] = limit
            if to is not None:
                body["to"] = to
    with connect(url, token) as client:
        answer = client.post(_path(name, "replay"), body)
    if json_out:
        print_json(answer)
        return
    if dead_letters:
        out.print(f"sent {answer.get('requeued', 0)} dead letter(s) back to {name}", markup=False)
        return
    if reset:
        out.print(f"pipeline {name} starts again from {answer.get('from')}", markup=False)
        return
    for output in answer.get("outputs", []):
        out.print(f"{escape(output['output'])} {escape(json.dumps(output['data'], default=str))}")
    more = " (more not shown)" if answer.get("truncated") else ""
    shown = len(answer.get("outputs", []))
    out.print(f"[dim]{answer.get('read', 0)} entries read, {shown} outputs{more}[/]")


# --- herald replay: the log itself, paced ------------------------------------------------
def _offset_ms(offset: str) -> int:
    return int(offset.partition("-")[0])


def _before(offset: str) -> str:
    from herald.pipeline.runtime.control import _before as before

    return before(offset)


def read_range(
    client: HeraldClient, start: str, end: str, page: int = 1000
) -> Iterator[dict[str, Any]]:
    """The events from ``start`` to ``end`` (offsets, inclusive), through ``/api/events/log``."""
    cursor = _before(start)
    end_key = tuple(int(p) for p in end.split("-"))
    while True:
        answer = client.get("/api/events/log", params={"since": cursor, "limit": page})
        events: list[dict[str, Any]] = answer.get("events", [])
        for event in events:
            if tuple(int(p) for p in str(event["offset"]).split("-")) > end_key:
                return
            yield event
        if len(events) < page:
            return
        cursor = str(answer.get("cursor") or events[-1]["offset"])


def paced(
    events: Iterator[dict[str, Any]],
    speed: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[dict[str, Any]]:
    """Yield events spaced like their offsets (``speed`` times faster; inf: at once)."""
    first: tuple[int, float] | None = None
    for event in events:
        if math.isfinite(speed):
            ms = _offset_ms(str(event["offset"]))
            if first is None:
                first = (ms, monotonic())
            else:
                wait = first[1] + (ms - first[0]) / 1000 / speed - monotonic()
                if wait > 0:
                    sleep(wait)
        yield event


def replay(
    start: Annotated[
        str, typer.Argument(help="From: an offset, a time (ISO 8601) or a time ago (24h).")
    ],
    end: Annotated[
        str, typer.Argument(help="To: an offset, a time or a time ago (1h); now by default.")
    ] = "now",
    speed: Annotated[str, typer.Option(help="realtime, xN (x10) or max.")] = "max",
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print the log's events between two points, paced as they happened (like `tail`)."""
    try:
        first = parse_bound(start, "from", end=False)
        last = parse_bound("-0s" if end == "now" else end, "to", end=True)
        pace = parse_speed(speed)
    except ValidationError as exc:
        fail(exc.detail, code=2)
    try:
        with connect(url, token) as client:
            for event in paced(read_range(client, first, last), pace):
                if json_out:
                    out.print(json.dumps(event, default=str), markup=False, soft_wrap=True)
                else:
                    out.print(
                        f"[dim]{escape(str(event.get('offset')))}[/] "
                        f"{escape(str(event.get('type', '')).removeprefix('stream:'))} "
                        f"{escape(render.event_summary(event))}",
                        soft_wrap=True,
                    )
    except KeyboardInterrupt:
        pass


def register(root: typer.Typer) -> None:
    root.add_typer(app)
    root.command()(replay)
