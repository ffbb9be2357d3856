"""``herald silences list|create|delete``: mute matching alerts until a time, over REST."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from herald.cli.alerts_options import duration_ago, parse_matcher
from herald.cli.common import DEFAULT, JsonOpt, TokenOpt, UrlOpt, connect, out, print_json

app = typer.Typer(
    name="silences", help="Silences: mute matching alerts until a time.", no_args_is_help=True
)


@app.command("list")
def silences_list(url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """Active and pending silences."""
    with connect(url, token) as client:
        answer = client.get("/api/silences")
    if json_out:
        print_json(answer)
        return
    found: list[dict[str, Any]] = answer.get("silences", [])
    if not found:
        out.print("no silences")
        return
    table = Table(title=f"{len(found)} silence(s)", title_justify="left")
    for column in ("id", "matchers", "starts", "ends", "comment"):
        table.add_column(column)
    for s in found:
        matchers = " ".join(
            f"{m.get('name')}{'=~' if m.get('isRegex') else '='}{m.get('value')}"
            for m in s.get("matchers", [])
        )
        table.add_row(
            escape(str(s.get("id"))),
            escape(matchers),
            escape(str(s.get("startsAt", "-"))),
            escape(str(s.get("endsAt", "-"))),
            escape(str(s.get("comment") or "")),
        )
    out.print(table)


@app.command("create")
def silences_create(
    match: Annotated[
        list[str],
        typer.Option(
            "--match",
            "-m",
            help="name=value, or name=~regex; repeat for more (all must match). Names: "
            "ruleId, channel, type, streamId, platform...",
        ),
    ],
    ends: Annotated[
        str, typer.Option("--ends", help="An ISO 8601 time, or how long from now (2h, 30m).")
    ],
    starts: Annotated[
        str | None, typer.Option("--starts", help="An ISO 8601 time (default: now).")
    ] = None,
    comment: Annotated[str, typer.Option("--comment", help="Why.")] = "",
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Mute the alerts matching every --match until --ends."""
    body: dict[str, Any] = {
        "matchers": [parse_matcher(m) for m in match],
        "endsAt": duration_ago(ends, future=True),
    }
    if starts is not None:
        body["startsAt"] = duration_ago(starts, future=True)
    if comment:
        body["comment"] = comment
    with connect(url, token) as client:
        silence = client.post("/api/silences", body)
    if json_out:
        print_json(silence)
        return
    out.print(f"created silence {silence.get('id')} until {silence.get('endsAt')}", markup=False)


@app.command("delete")
def silences_delete(
    silence_id: Annotated[str, typer.Argument(help="The silence's id (see `silences list`).")],
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
) -> None:
    """End a silence now."""
    with connect(url, token) as client:
        client.delete(f"/api/silences/{silence_id}")
    out.print(f"deleted silence {silence_id}", markup=False)
