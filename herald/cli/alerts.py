"""``herald alerts ...``: rules and dry runs, over REST (``herald silences`` is beside it).

Every refusal is the server's own one line (``threshold: ...``), the same text the REST API
and the MCP tools give. ``herald alerts test RULE --replay FROM TO`` evaluates a stored rule,
or one given as JSON, over a past part of the log and prints the transitions it would have
made; nothing is stored and nothing is sent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from herald.cli import render
from herald.cli.alerts_options import (
    ChannelOpt,
    ConditionOpt,
    EnabledOpt,
    FileOpt,
    ForOpt,
    IdOpt,
    KeepOpt,
    KeywordsOpt,
    MinSamplesOpt,
    PlatformsOpt,
    ResolveOpt,
    StreamsOpt,
    ThresholdOpt,
    TypeOpt,
    WindowOpt,
    rule_body,
)
from herald.cli.client import CliError, HeraldClient
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

app = typer.Typer(
    name="alerts",
    help="Alert rules: list, show, create, update, enable, disable, delete, test.",
    no_args_is_help=True,
)
RuleId = Annotated[str, typer.Argument(help="The rule's id (see `alerts list`).")]
REPLAY_TIMEOUT = 600.0
STATE_STYLE = {
    "firing": "red",
    "pending": "yellow",
    "recovering": "yellow",
    "resolved": "green",
    "normal": "green",
    "nodata": "dim",
    "error": "red",
}


def _path(rule_id: str = "") -> str:
    return "/api/alerts" + (f"/{rule_id}" if rule_id else "")


def state(value: object) -> str:
    text = str(value or "?")
    return f"[{STATE_STYLE.get(text, 'white')}]{escape(text)}[/]"


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _window(rule: dict[str, Any]) -> str:
    seconds = rule.get("window")
    return render.duration(float(seconds)) if isinstance(seconds, int | float) else "-"


def rules_table(rules: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rules)} rule(s)", title_justify="left")
    for column in ("id", "type", "condition", "window", "channel", "enabled", "state", "value"):
        table.add_column(column, no_wrap=column != "condition")
    for rule in rules:
        status = rule.get("status") or {}
        table.add_row(
            escape(str(rule.get("id"))),
            escape(str(rule.get("type"))),
            escape(f"{rule.get('condition')} {_value(rule.get('threshold'))}"),
            _window(rule),
            escape(str(rule.get("channel", "-"))),
            "yes" if rule.get("enabled") else "[dim]no[/]",
            state(status.get("state")),
            escape(_value(status.get("value"))),
        )
    return table


def rule_sheet(rule: dict[str, Any]) -> Table:
    status = rule.get("status") or {}
    shown: dict[str, Any] = {k: v for k, v in rule.items() if k != "status"}
    shown.update({f"status {k}": v for k, v in status.items()})
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, value in shown.items():
        text = json.dumps(value, default=str) if isinstance(value, dict | list) else _value(value)
        table.add_row(escape(key), state(value) if key == "status state" else escape(text))
    return table


@app.command("list")
def list_(url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False) -> None:
    """Every rule with its live state."""
    with connect(url, token) as client:
        answer = client.get(_path())
    if json_out:
        print_json(answer)
        return
    rules: list[dict[str, Any]] = answer.get("alerts", [])
    if not rules:
        out.print("no alert rules; add one with `herald alerts create` (see docs/alerts.md)")
        return
    out.print(rules_table(rules))


@app.command()
def show(
    rule_id: RuleId, url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False
) -> None:
    """One rule in full, with its state, value and since when."""
    with connect(url, token) as client:
        answer = client.get(_path(rule_id))
    if json_out:
        print_json(answer)
        return
    out.print(rule_sheet(answer))


def _changed(verb: str, rule: dict[str, Any], json_out: bool) -> None:
    if json_out:
        print_json(rule)
        return
    out.print(
        f"{verb} rule {rule.get('id')}: {rule.get('type')} {rule.get('condition')} "
        f"{_value(rule.get('threshold'))}" + ("" if rule.get("enabled", True) else " (disabled)"),
        markup=False,
    )


@app.command()
def create(
    type: TypeOpt = None,
    condition: ConditionOpt = None,
    threshold: ThresholdOpt = None,
    rule_id: IdOpt = None,
    channel: ChannelOpt = None,
    window: WindowOpt = None,
    hold: ForOpt = None,
    keep_firing_for: KeepOpt = None,
    min_samples: MinSamplesOpt = None,
    resolve_threshold: ResolveOpt = None,
    enabled: EnabledOpt = None,
    stream: StreamsOpt = None,
    platform: PlatformsOpt = None,
    keyword: KeywordsOpt = None,
    file: FileOpt = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add a rule from options, a JSON file (--file), or both (options win).

    e.g. herald alerts create --type sentiment --condition below --threshold -0.3
    --window 5m --for 1m --min-samples 5 --keyword tesla --channel critical"""
    body = rule_body(
        file=file,
        rule_id=rule_id,
        type=type,
        condition=condition,
        threshold=threshold,
        channel=channel,
        window=window,
        hold=hold,
        keep_firing_for=keep_firing_for,
        min_samples=min_samples,
        resolve_threshold=resolve_threshold,
        enabled=enabled,
        streams=stream,
        platforms=platform,
        keywords=keyword,
    )
    with connect(url, token) as client:
        rule = client.post(_path(), body)
    _changed("created", rule, json_out)


@app.command()
def update(
    rule_id: RuleId,
    type: TypeOpt = None,
    condition: ConditionOpt = None,
    threshold: ThresholdOpt = None,
    channel: ChannelOpt = None,
    window: WindowOpt = None,
    hold: ForOpt = None,
    keep_firing_for: KeepOpt = None,
    min_samples: MinSamplesOpt = None,
    resolve_threshold: ResolveOpt = None,
    enabled: EnabledOpt = None,
    stream: StreamsOpt = None,
    platform: PlatformsOpt = None,
    keyword: KeywordsOpt = None,
    file: FileOpt = None,
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Change some fields of a rule; the rest stay as they are (checked as a whole rule)."""
    with connect(url, token) as client:
        current = client.get(_path(rule_id))
        body = rule_body(
            file=file,
            current=current,
            type=type,
            condition=condition,
            threshold=threshold,
            channel=channel,
            window=window,
            hold=hold,
            keep_firing_for=keep_firing_for,
            min_samples=min_samples,
            resolve_threshold=resolve_threshold,
            enabled=enabled,
            streams=stream,
            platforms=platform,
            keywords=keyword,
        )
        if not body:
            fail("nothing to update: give at least one option (see --help)", code=2)
        rule = client.patch(_path(rule_id), body)
    _changed("updated", rule, json_out)


def _toggle(rule_id: str, enabled: bool, url: str, token: str | None, json_out: bool) -> None:
    with connect(url, token) as client:
        rule = client.patch(_path(rule_id), {"enabled": enabled})
    _changed("enabled" if enabled else "disabled", rule, json_out)


@app.command()
def enable(
    rule_id: RuleId, url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False
) -> None:
    """Evaluate the rule again."""
    _toggle(rule_id, True, url, token, json_out)


@app.command()
def disable(
    rule_id: RuleId, url: UrlOpt = DEFAULT, token: TokenOpt = None, json_out: JsonOpt = False
) -> None:
    """Stop evaluating the rule (kept, and enabled again with `alerts enable`)."""
    _toggle(rule_id, False, url, token, json_out)


@app.command()
def delete(rule_id: RuleId, url: UrlOpt = DEFAULT, token: TokenOpt = None) -> None:
    """Remove a rule."""
    with connect(url, token) as client:
        client.delete(_path(rule_id))
    out.print(f"deleted rule {rule_id}", markup=False)


def _rule_arg(rule: str) -> dict[str, Any] | str:
    """A stored rule's id, a JSON rule (``{...}``), or a JSON file (``-`` for stdin)."""
    text: str | None = None
    if rule.lstrip().startswith("{"):
        text = rule
    elif rule == "-":
        text = sys.stdin.read()
    elif rule.endswith(".json") or Path(rule).is_file():
        try:
            text = Path(rule).read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"cannot read the rule from {rule}: {exc.strerror or exc}", code=2)
    if text is None:
        return rule
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"rule: not valid JSON ({exc.msg} at position {exc.pos})", code=2)
    if not isinstance(body, dict):
        fail("rule: must be a JSON object", code=2)
    return body


def transitions_table(result: dict[str, Any]) -> Table:
    found: list[dict[str, Any]] = result.get("transitions", [])
    table = Table(title=f"{len(found)} transition(s)", title_justify="left")
    for column in ("state", "previous", "at", "value", "threshold", "samples"):
        table.add_column(column, no_wrap=True)
    for t in found:
        table.add_row(
            state(t.get("state")),
            state(t.get("previous")),
            escape(str(t.get("at", "-"))),
            escape(_value(t.get("value"))),
            escape(_value(t.get("threshold"))),
            escape(", ".join(str(s) for s in (t.get("samples") or [])[:3]) or "-"),
        )
    return table


@app.command("test")
def test_(
    rule: Annotated[
        str,
        typer.Argument(help="A stored rule's id, a rule as JSON ('{...}'), or a JSON file."),
    ],
    replay: Annotated[
        tuple[str, str],
        typer.Option(
            "--replay",
            help="FROM TO: log offsets (1700000000000-0), ISO 8601 times, or times ago (24h).",
        ),
    ],
    url: UrlOpt = DEFAULT,
    token: TokenOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What RULE would have done over a past part of the log: its transitions (state,
    previous, at, value, threshold). A dry run: nothing is stored or sent."""
    target = _rule_arg(rule)
    start, end = replay  # the server reads offsets, times and times ago alike
    body: dict[str, Any] = {"from": start, "to": end}
    body["rule" if isinstance(target, dict) else "ruleId"] = target
    try:
        with (
            HeraldClient(url, token, timeout=REPLAY_TIMEOUT) as client,
            err.status(f"replaying the log from {start} to {end}…"),
        ):
            result = client.post(_path("test"), body)
    except CliError as exc:
        fail(exc.message)
    if json_out:
        print_json(result)
        return
    out.print(transitions_table(result))
    fired = sum(1 for t in result.get("transitions", []) if t.get("state") == "firing")
    out.print(
        f"rule {result.get('ruleId', '?')} evaluated {result.get('evaluated', 0)} log entries "
        f"from {result.get('from')} to {result.get('to')}; it would have fired {fired} time(s)",
        markup=False,
    )


def register(root: typer.Typer) -> None:
    from herald.cli import silences

    root.add_typer(app)
    root.add_typer(silences.app)
