"""``herald streams ...``: the stream lifecycle over REST, tables for people, JSON for scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

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

app = typer.Typer(
    name="streams",
    help="Start, list, inspect, pause, resume, poll, update and stop streams.",
    no_args_is_help=True,
)

StreamId = Annotated[str, typer.Argument(help="The stream's id (see `herald streams list`).")]


def _label(stream: dict[str, Any]) -> str:
    return f"{stream.get('id')} ({stream.get('type')} @{stream.get('username')})"


@app.command()
def start(
    type: Annotated[str, typer.Option("--type", "-t", help="tweet, follower or mention.")],
    username: Annotated[str, typer.Option("--username", "-u", help="The account to watch.")],
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
    follower_snapshot_limit: Annotated[
        int | None,
        typer.Option(help="Follower streams: largest follower list to diff for lost followers."),
    ] = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Start watching an account. Example: herald streams start -t tweet -u nasa --interval 60"""
    body: dict[str, Any] = {"type": type, "username": username}
    if interval is not None:
        body["interval"] = interval
    if follower_snapshot_limit is not None:
        body["options"] = {"followerSnapshotLimit": follower_snapshot_limit}
    secrets: list[str] = []
    if auth_token_file is not None:
        body["authToken"] = read_secret_file(auth_token_file, "auth token")
        secrets.append(body["authToken"])
    with connect(url, token, secrets) as client:
        stream = client.post("/api/streams/start", body)
    if json_out:
        print_json(stream)
        return
    out.print(f"[green]started[/] {_label(stream)}, every {render.interval(stream)}")


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
        out.print("no streams; start one with `herald streams start --type tweet --username NAME`")
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
    out.print(f"{verb}d {_label(stream)}: {render.status(stream.get('status'))}")


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
    if follower_snapshot_limit is not None:
        body["options"] = {"followerSnapshotLimit": follower_snapshot_limit}
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
