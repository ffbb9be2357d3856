"""The options of ``herald alerts create|update`` and how they become a rule body.

Values go to the server as typed as the user meant them: ``--threshold 0.3`` is a number
(text for keyword rules), ``--window 5m`` stays ``"5m"`` (the server reads durations), and
the server checks the whole rule, so its refusal names the field.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from herald.cli.common import fail

_RULE = "Rule"
_SCOPE = "Scope"
IdOpt = Annotated[
    str | None,
    typer.Option("--id", help="The rule's id (default: generated).", rich_help_panel=_RULE),
]
TypeOpt = Annotated[
    str | None,
    typer.Option("--type", help="sentiment, engagement, volume or keyword.", rich_help_panel=_RULE),
]
ConditionOpt = Annotated[
    str | None,
    typer.Option(
        "--condition",
        help="above, below or equals; contains for keyword rules.",
        rich_help_panel=_RULE,
    ),
]
ThresholdOpt = Annotated[
    str | None,
    typer.Option(
        "--threshold",
        help="A number (a sentiment score from -1 to 1, a count...); the text for keyword rules.",
        rich_help_panel=_RULE,
    ),
]
ChannelOpt = Annotated[
    str | None,
    typer.Option(
        "--channel",
        help="Where alerts go (a subscription filter and a room).",
        rich_help_panel=_RULE,
    ),
]
WindowOpt = Annotated[
    str | None,
    typer.Option(
        "--window", help="What each evaluation aggregates: 300, 30s, 5m, 1h.", rich_help_panel=_RULE
    ),
]
ForOpt = Annotated[
    str | None,
    typer.Option(
        "--for", help="How long the condition must hold before firing.", rich_help_panel=_RULE
    ),
]
KeepOpt = Annotated[
    str | None,
    typer.Option(
        "--keep-firing-for", help="How long a recovered rule keeps firing.", rich_help_panel=_RULE
    ),
]
MinSamplesOpt = Annotated[
    int | None,
    typer.Option(
        "--min-samples", help="Items a window needs before it counts.", rich_help_panel=_RULE
    ),
]
ResolveOpt = Annotated[
    float | None,
    typer.Option(
        "--resolve-threshold", help="Resolve past this value instead.", rich_help_panel=_RULE
    ),
]
EnabledOpt = Annotated[
    bool | None,
    typer.Option(
        "--enabled/--disabled",
        help="Evaluate the rule (default: yes).",
        show_default=False,
        rich_help_panel=_RULE,
    ),
]
StreamsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--stream", help="Only events of this stream id (repeatable).", rich_help_panel=_SCOPE
    ),
]
PlatformsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--platform",
        help="Only events of this platform: x, bsky... (repeatable).",
        rich_help_panel=_SCOPE,
    ),
]
KeywordsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--keyword", help="Only items containing this word (repeatable).", rich_help_panel=_SCOPE
    ),
]
FileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file",
        "-f",
        help="A rule as JSON (- for stdin); options override its fields.",
        rich_help_panel=_RULE,
    ),
]


def _number_or_text(value: str) -> float | int | str:
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


def _duration(value: str) -> float | int | str:
    """``300`` as a number of seconds; ``5m`` as the server reads it."""
    return _number_or_text(value)


def read_rule_file(path: Path) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read the rule from {path}: {exc.strerror or exc}", code=2)
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})", code=2)
    if not isinstance(body, dict):
        fail(f"{path}: a rule must be a JSON object", code=2)
    return body


def rule_body(
    *,
    file: Path | None = None,
    current: dict[str, Any] | None = None,
    rule_id: str | None = None,
    type: str | None = None,
    condition: str | None = None,
    threshold: str | None = None,
    channel: str | None = None,
    window: str | None = None,
    hold: str | None = None,
    keep_firing_for: str | None = None,
    min_samples: int | None = None,
    resolve_threshold: float | None = None,
    enabled: bool | None = None,
    streams: list[str] | None = None,
    platforms: list[str] | None = None,
    keywords: list[str] | None = None,
) -> dict[str, Any]:
    """The JSON body: the file's fields, then every option given. ``current`` (the stored
    rule, on update) says whether a threshold is text (keyword rules) or a number."""
    body: dict[str, Any] = read_rule_file(file) if file is not None else {}
    given: dict[str, Any] = {
        "id": rule_id,
        "type": type,
        "condition": condition,
        "channel": channel,
        "window": None if window is None else _duration(window),
        "for": None if hold is None else _duration(hold),
        "keepFiringFor": None if keep_firing_for is None else _duration(keep_firing_for),
        "minSamples": min_samples,
        "resolveThreshold": resolve_threshold,
        "enabled": enabled,
    }
    body.update({k: v for k, v in given.items() if v is not None})
    if threshold is not None:
        kind = body.get("type") or (current or {}).get("type")
        body["threshold"] = threshold if kind == "keyword" else _number_or_text(threshold)
    scope = {"streams": streams, "platforms": platforms, "keywords": keywords}
    if any(scope.values()):
        merged = dict(body.get("scope") or (current or {}).get("scope") or {})
        merged.update({k: v for k, v in scope.items() if v})
        body["scope"] = merged
    return body


def parse_matcher(text: str) -> dict[str, Any]:
    """``name=value`` or ``name=~regex`` (Alertmanager's way of writing them)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        fail(f"--match: {text!r} is not name=value or name=~regex", code=2)
    if value.startswith("~"):
        return {"name": name.strip(), "value": value[1:], "isRegex": True}
    return {"name": name.strip(), "value": value, "isRegex": False}


_AGO = re.compile(r"^-?(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_ago(value: str, *, future: bool = False, now: datetime | None = None) -> str:
    """``24h`` as the ISO time that long ago (``future``: from now); anything else as is
    (an offset or an ISO time, which the server checks)."""
    match = _AGO.match(value.strip())
    if match is None:
        return value.strip()
    delta = timedelta(seconds=float(match.group(1)) * _UNIT[match.group(2)])
    moment = (now or datetime.now(UTC)) + (delta if future else -delta)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
