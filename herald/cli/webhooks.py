"""``herald webhooks ...``: endpoints that receive events as signed POSTs, over REST.

``add`` prints the endpoint's secret once (herald never shows it again); every refusal is
the server's own one line (``url: ...``), the same the REST API and MCP give.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from herald.cli.common import DEFAULT, JsonOpt, TokenOpt, UrlOpt, connect, fail, out, print_json

app = typer.Typer(
    name="webhooks",
    help="Webhook endpoints: list, add, show, update, remove, attempts, resend, skip, test.",
    no_args_is_help=True,
)
HookId = Annotated[str, typer.Argument(help="The endpoint's id (see `webhooks list`).")]
SelectorOpt = Annotated[
    str | None,
    typer.Option(
        "--selector",
        help='Which events, as JSON: {"types": ["tweet:new"], "filters": {...}}.',
    ),
]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="standard (the event JSON), slack or discord.")
]
SecretOpt = Annotated[
    str | None,
    typer.Option("--secret", help="whsec_<base64>; generated when left out (shown once)."),
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="A note for people.")]


def _path(hook_id: str = "", tail: str = "") -> str:
    return "/api/webhooks" + (f"/{hook_id}" if hook_id else "") + tail


def _selector(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        fail(f"--selector: not valid JSON ({exc})", code=2)
    if not isinstance(value, dict):
        fail("--selector: must be a JSON object", code=2)
    return value


def hooks_table(hooks: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(hooks)} webhook(s)", title_justify="left")
    for column in ("id", "url", "format", "enabled", "health", "delivered", "failing"):
        table.add_column(column, no_wrap=column != "url")
    for hook in hooks:
        status = hook.get("status") or {}
        failing = status.get("failing")
        table.add_row(
            escape(str(hook.get("id"))),
            escape(str(hook.get("url"))),
            escape(str(hook.get("format"))),
            "yes" if hook.get("enabled") else "[dim]no[/]",
            escape(str(status.get("health", "?"))),
            str(status.get("delivered", 0)),
            escape(f"{failing['attempts']} tries: {failing['lastError']}") if failing else "-",
        )
    return table


def _changed(verb: str, hook: dict[str, Any], json_out: bool) -> None:
    if json_out:
        print_json(hook)
        return
    state = "" if hook.get("enabled", True) else " (disabled)"
    out.print(f"{verb} webhook {hook.get('id')}: {hook.get('url')}{state}", markup=False)


@app.command("list")
def list_(url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """Every endpoint with its delivery status."""
    with connect(url, token) as client:
        found = client.get(_path())
    if json_out:
        print_json(found)
        return
    out.print(hooks_table(found.get("webhooks", [])))


@app.command()
def add(
    target: Annotated[str, typer.Argument(help="The receiver's http(s) URL.")],
    selector: SelectorOpt = None,
    fmt: FormatOpt = None,
    secret: SecretOpt = None,
    description: DescriptionOpt = None,
    hook_id: Annotated[str | None, typer.Option("--id", help="Choose the id.")] = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add an endpoint; prints its signing secret once."""
    body: dict[str, Any] = {"url": target}
    for name, value in (
        ("selector", _selector(selector)),
        ("format", fmt),
        ("secret", secret),
        ("description", description),
        ("id", hook_id),
    ):
        if value is not None:
            body[name] = value
    with connect(url, token, secrets=[secret or ""]) as client:
        hook = client.post(_path(), body)
    if json_out:
        print_json(hook)
        return
    _changed("added", hook, False)
    out.print(f"secret (shown once, keep it): {hook.get('secret')}", markup=False)


@app.command()
def show(hook_id: HookId, url: UrlOpt = DEFAULT, token: TokenOpt = None) -> None:
    """One endpoint in full, as JSON."""
    with connect(url, token) as client:
        print_json(client.get(_path(hook_id)))


@app.command()
def update(
    hook_id: HookId,
    target: Annotated[str | None, typer.Option("--target", help="A new receiver URL.")] = None,
    selector: SelectorOpt = None,
    fmt: FormatOpt = None,
    secret: SecretOpt = None,
    description: DescriptionOpt = None,
    enabled: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Turn delivery on or off.")
    ] = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Change some fields; --enable on a disabled endpoint retries where it stopped."""
    body: dict[str, Any] = {}
    for name, value in (
        ("url", target),
        ("selector", _selector(selector)),
        ("format", fmt),
        ("secret", secret),
        ("description", description),
        ("enabled", enabled),
    ):
        if value is not None:
            body[name] = value
    if not body:
        fail("nothing to update: give at least one option (see --help)", code=2)
    with connect(url, token, secrets=[secret or ""]) as client:
        hook = client.patch(_path(hook_id), body)
    _changed("updated", hook, json_out)


@app.command()
def remove(hook_id: HookId, url: UrlOpt = DEFAULT, token: TokenOpt = None) -> None:
    """Delete an endpoint (its offset and attempts go with it)."""
    with connect(url, token) as client:
        client.delete(_path(hook_id))
    out.print(f"removed webhook {hook_id}", markup=False)


@app.command()
def attempts(
    hook_id: HookId,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 20,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The newest delivery attempts: status, latency, error."""
    with connect(url, token) as client:
        found = client.get(_path(hook_id, "/attempts"), params={"limit": limit})
    if json_out:
        print_json(found)
        return
    table = Table(title=f"{found.get('count', 0)} attempt(s)", title_justify="left")
    for column in ("at", "eventId", "try", "status", "ms", "error"):
        table.add_column(column)
    for a in found.get("attempts", []):
        table.add_row(
            escape(str(a.get("at"))),
            escape(str(a.get("eventId"))),
            str(a.get("attempt")),
            str(a.get("status") or "-"),
            f"{a.get('latencyMs', 0):.1f}",
            escape(str(a.get("error") or "")),
        )
    out.print(table)


def _sent(answer: dict[str, Any], json_out: bool) -> None:
    if json_out:
        print_json(answer)
        return
    a = answer.get("attempt") or {}
    verdict = "delivered" if answer.get("ok") else f"failed: {a.get('error')}"
    out.print(f"{a.get('eventId')}: {verdict} ({a.get('latencyMs')} ms)", markup=False)
    if not answer.get("ok"):
        raise typer.Exit(1)


def _event_ref(event: str) -> dict[str, str]:
    """One event of the log as the API names it: a log offset, else an eventId."""
    from herald.store.logentry import is_offset

    return {"offset": event} if is_offset(event) else {"eventId": event}


@app.command()
def resend(
    hook_id: HookId,
    event: Annotated[str, typer.Argument(help="An eventId, or a log offset (1700000000000-0).")],
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Send one event of the log again now (outside the ordered queue)."""
    with connect(url, token) as client:
        answer = client.post(_path(hook_id, "/resend"), _event_ref(event))
    _sent(answer, json_out)


@app.command()
def skip(
    hook_id: HookId,
    event: Annotated[
        str, typer.Argument(help="The held event: its eventId or log offset (1700000000000-0).")
    ],
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Give up on the event a disabled endpoint is stuck on; enabled again, it delivers
    from the next event."""
    with connect(url, token) as client:
        answer = client.post(_path(hook_id, "/skip"), _event_ref(event))
    if json_out:
        print_json(answer)
        return
    held = answer.get("skipped") or {}
    out.print(
        f"skipped {held.get('eventId') or held.get('offset')} (offset {held.get('offset')}): "
        f"it will not be delivered; `herald webhooks update {hook_id} --enable` resumes",
        markup=False,
    )


@app.command()
def test(
    hook_id: HookId, url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False
) -> None:
    """Send a signed webhook:test event now and say how it went."""
    with connect(url, token) as client:
        answer = client.post(_path(hook_id, "/test"))
    _sent(answer, json_out)


def register(root: typer.Typer) -> None:
    root.add_typer(app)
