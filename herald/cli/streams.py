"""``herald streams ...``: the stream lifecycle over REST, tables for people, JSON for scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from herald.cli import bulk, render
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
from herald.sources.catalog import stream_types

app = typer.Typer(
    name="streams",
    help="Start, list, inspect, pause, resume, poll, update and stop streams.",
    no_args_is_help=True,
)

StreamId = Annotated[str, typer.Argument(help="The stream's id (see `herald streams list`).")]


def _label(stream: dict[str, Any]) -> str:
    target = stream.get("target") or stream.get("username")
    return f"{stream.get('id')} ({stream.get('type')} {render.target(target)})"


def _types_help() -> str:
    """The start command's help: every type of the catalog, with what its target is."""
    first = next(iter(stream_types()), None)
    example = f"{first.name} {first.target.example}" if first else "TYPE TARGET"
    lines = [
        "Start a stream: TYPE and TARGET (what to watch), e.g. "
        f"`herald streams start {example} --interval 60`.",
        "",
        "Types and their targets (`herald streams types` shows events and options):",
        "",
    ]
    for spec in stream_types():
        names = ", ".join(spec.names)
        lines.append(f"- {names}: {spec.target.description} (e.g. {spec.target.example})")
    lines += ["", "The seed's `--type TYPE --username NAME` works as well."]
    return escape("\n".join(lines))


def _option(raw: str) -> tuple[str, Any]:
    """``--option NAME=VALUE``: the value as JSON when it parses (numbers, true, lists)."""
    name, sep, value = raw.partition("=")
    if not sep or not name:
        fail(f"--option {raw!r}: write NAME=VALUE", code=2)
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def _one(positional: str | None, option: str | None, what: str) -> str | None:
    if positional is not None and option is not None and positional != option:
        fail(f"{what} given twice ({positional!r} and {option!r}): give it once", code=2)
    return positional if positional is not None else option


@app.command(help=_types_help())
def start(
    type_arg: Annotated[
        str | None, typer.Argument(metavar="TYPE", help="The stream type.", show_default=False)
    ] = None,
    target_arg: Annotated[
        str | None,
        typer.Argument(metavar="TARGET", help="What to watch (per type).", show_default=False),
    ] = None,
    type: Annotated[
        str | None, typer.Option("--type", "-t", help="The type, as an option.")
    ] = None,
    username: Annotated[
        str | None,
        typer.Option("--username", "-u", help="The target, as the seed names it."),
    ] = None,
    interval: Annotated[
        float | None, typer.Option(help="Seconds between polls (server default 60).")
    ] = None,
    auth_token_file: Annotated[
        Path | None,
        typer.Option(
            "--auth-token-file",
            help="File holding the X auth_token cookie for this stream ('-' for stdin). "
            "It is stored encrypted and never shown again.",
            dir_okay=False,
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option", "-o", help="A type's option as NAME=VALUE (repeatable; see `types`)."
        ),
    ] = None,
    follower_snapshot_limit: Annotated[
        int | None,
        typer.Option(help="Follower streams: largest follower list to diff for lost followers."),
    ] = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    stream_type = _one(type_arg, type, "the type")
    target = _one(target_arg, username, "the target")
    if stream_type is None or target is None:
        fail("give a TYPE and a TARGET (`herald streams types` lists them)", code=2)
    body: dict[str, Any] = {"type": stream_type}
    body["username" if target_arg is None else "target"] = target
    if interval is not None:
        body["interval"] = interval
    options = dict(_option(raw) for raw in option or [])
    if follower_snapshot_limit is not None:
        options["followerSnapshotLimit"] = follower_snapshot_limit
    if options:
        body["options"] = options
    secrets: list[str] = []
    if auth_token_file is not None:
        body["authToken"] = read_secret_file(auth_token_file, "auth token")
        secrets.append(body["authToken"])
    with connect(url, token, secrets) as client:
        stream = client.post("/api/streams/start", body)
    if json_out:
        print_json(stream)
        return
    out.print(f"[green]started[/] {escape(_label(stream))}, every {render.interval(stream)}")


@app.command()
def types(
    local: Annotated[
        bool,
        typer.Option("--local", help="This installation's catalog, without asking a server."),
    ] = False,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The stream types: type, platform, target, events and options."""
    if local:
        catalog = stream_types().describe()
        answer: dict[str, Any] = {"types": catalog, "count": len(catalog)}
    else:
        with connect(url, token) as client:
            answer = client.get("/api/stream-types")
    if json_out:
        print_json(answer)
        return
    out.print(render.types_table(answer.get("types", [])))


@app.command("list")
def list_(url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """List every stream with its status, last and next poll, events and errors."""
    with connect(url, token) as client:
        answer = client.get("/api/streams")
    if json_out:
        print_json(answer)
        return
    streams = answer.get("streams", [])
    if not streams:
        out.print("no streams; start one with `herald streams start TYPE TARGET` (see `types`)")
        return
    out.print(render.streams_table(streams))


@app.command()
def status(
    stream_id: StreamId, url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False
) -> None:
    """Everything about one stream, including why it last failed."""
    with connect(url, token) as client:
        stream = client.get(f"/api/streams/{stream_id}")
    if json_out:
        print_json(stream)
        return
    out.print(render.stream_sheet(stream))


def _action(verb: str, stream_id: str, url: str, token: str | None, json_out: bool) -> None:
    with connect(url, token) as client:
        stream = client.post(f"/api/streams/{stream_id}/{verb}")
    if json_out:
        print_json(stream)
        return
    out.print(f"{verb}d {escape(_label(stream))}: {render.status(stream.get('status'))}")


@app.command()
def pause(
    stream_id: StreamId, url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False
) -> None:
    """Stop polling but keep the stream and its state; resume continues without a new baseline."""
    _action("pause", stream_id, url, token, json_out)


@app.command()
def resume(
    stream_id: StreamId, url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False
) -> None:
    """Resume a paused stream, or restart one that stopped after repeated errors."""
    _action("resume", stream_id, url, token, json_out)


@app.command()
def poll(
    stream_id: StreamId, url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False
) -> None:
    """Poll now instead of waiting for the next scheduled poll."""
    with connect(url, token) as client:
        result = client.post(f"/api/streams/{stream_id}/poll")
    if json_out:
        print_json(result)
        return
    line = f"polled {stream_id}: {result.get('outcome')}, {result.get('events', 0)} new event(s)"
    if result.get("error"):
        line += f", error: {result['error']}"
    out.print(line, soft_wrap=True, markup=False)


@app.command()
def stop(
    stream_id: Annotated[str | None, typer.Argument(help="The stream to stop.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Stop every stream, with progress.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before --all.")] = False,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Stop and remove a stream (or every stream with --all)."""
    if all_ == (stream_id is not None):
        fail("give a stream id or --all (not both)", code=2)
    if all_:
        bulk.stop_all(url, token, json_out=json_out, confirm=not yes)
        return
    with connect(url, token) as client:
        result = client.post("/api/streams/stop", {"streamId": stream_id})
    if json_out:
        print_json(result)
        return
    out.print(f"stopped {stream_id}", markup=False)


@app.command()
def update(
    stream_id: StreamId,
    interval: Annotated[float | None, typer.Option(help="New seconds between polls.")] = None,
    auth_token_file: Annotated[
        Path | None,
        typer.Option(
            "--auth-token-file", help="Replace the X auth_token ('-' for stdin).", dir_okay=False
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="A type's option as NAME=VALUE (repeatable)."),
    ] = None,
    follower_snapshot_limit: Annotated[int | None, typer.Option()] = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Change a stream's interval, token or options; effective from its next poll."""
    body: dict[str, Any] = {}
    secrets: list[str] = []
    if interval is not None:
        body["interval"] = interval
    if auth_token_file is not None:
        body["authToken"] = read_secret_file(auth_token_file, "auth token")
        secrets.append(body["authToken"])
    options = dict(_option(raw) for raw in option or [])
    if follower_snapshot_limit is not None:
        options["followerSnapshotLimit"] = follower_snapshot_limit
    if options:
        body["options"] = options
    if not body:
        fail("nothing to update: give --interval, --auth-token-file or an option", code=2)
    with connect(url, token, secrets) as client:
        stream = client.patch(f"/api/streams/{stream_id}", body)
    if json_out:
        print_json(stream)
        return
    out.print(f"updated {_label(stream)}: every {render.interval(stream)}", markup=False)


@app.command()
def history(
    stream_id: StreamId,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many events.", min=1)] = 20,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A stream's recent events, newest first."""
    with connect(url, token) as client:
        answer = client.get(f"/api/streams/{stream_id}/history", params={"limit": limit})
    if json_out:
        print_json(answer)
        return
    events = answer.get("events", [])
    out.print(render.events_table(events, f"{len(events)} recent event(s) of {stream_id}"))
