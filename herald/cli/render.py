"""Rich renderings of herald's JSON: stream tables, status sheets, event lines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.markup import escape
from rich.table import Table

from herald.delivery.terminal import describe_item
from herald.sources.catalog import item_of

STATUS_STYLE = {"active": "green", "paused": "yellow", "error": "red", "stopped": "dim"}


def when(value: str | None, *, now: datetime | None = None) -> str:
    """An ISO time as "12s ago" / "in 40s", which is what a person scanning a table wants."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = (moment - (now or datetime.now(UTC))).total_seconds()
    text = duration(abs(delta))
    if abs(delta) < 1:
        return "now"
    return f"in {text}" if delta > 0 else f"{text} ago"


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 120 * 60:
        return f"{round(seconds / 60, 1):g}m"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600, 1):g}h"
    return f"{seconds / 86400:.0f}d"


def status(value: str | None) -> str:
    text = value or "?"
    return f"[{STATUS_STYLE.get(text, 'white')}]{escape(text)}[/]"


def interval(stream: dict[str, Any]) -> str:
    seconds = stream.get("intervalSeconds")
    if not isinstance(seconds, int | float):
        seconds = (stream.get("interval") or 0) / 1000
    return duration(float(seconds))


def target(value: object) -> str:
    """A stream's target as people write it: ``@nasa`` for a handle, a URL or a query as is."""
    text = str(value if value is not None else "?")
    return f"@{text}" if text.replace("_", "").isalnum() else text


def streams_table(streams: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(streams)} stream(s)", title_justify="left", expand=False)
    for column in ("id", "type", "target", "status", "interval", "last poll", "next poll"):
        table.add_column(column, no_wrap=True)
    table.add_column("events", justify="right")
    table.add_column("errors", justify="right")
    for s in streams:
        errors = int(s.get("consecutiveErrors") or 0)
        table.add_row(
            escape(str(s.get("id"))),
            escape(str(s.get("type"))),
            escape(target(s.get("target") or s.get("username"))),
            status(s.get("status")),
            interval(s),
            when(s.get("lastPoll")),
            when(s.get("nextPoll")),
            str(s.get("eventsTotal", 0)),
            f"[red]{errors}[/]" if errors else "0",
        )
    return table


def stream_sheet(s: dict[str, Any]) -> Table:
    """One stream, field by field, with the error reason spelled out."""
    sheet = Table.grid(padding=(0, 2))
    sheet.add_column(style="bold")
    sheet.add_column()
    rows: list[tuple[str, str]] = [
        ("id", escape(str(s.get("id")))),
        ("stream", escape(f"{s.get('type')} {target(s.get('target') or s.get('username'))}")),
        ("platform", escape(str(s.get("platform") or "-"))),
        ("status", status(s.get("status"))),
        ("interval", interval(s)),
        ("created", _time(s.get("createdAt"))),
        ("last poll", _time(s.get("lastPoll"))),
        ("next poll", _time(s.get("nextPoll") or s.get("scheduledFor"))),
        ("polls", str(s.get("polls", 0))),
        ("events", _counts(s.get("counts") or {}, s.get("eventsTotal", 0))),
        ("errors", str(s.get("consecutiveErrors", 0)) + " in a row"),
    ]
    if s.get("lastError"):
        kind = f" ({s['lastErrorKind']})" if s.get("lastErrorKind") else ""
        rows.append(("last error", f"[red]{escape(str(s['lastError']))}{escape(kind)}[/]"))
    if s.get("path"):  # X: which way the last poll read (graphql or browser)
        rows.append(("read through", escape(str(s["path"]))))
    if s.get("stopReason"):
        rows.append(("stopped because", escape(str(s["stopReason"]))))
    if s.get("options"):
        rows.append(("options", escape(str(s["options"]))))
    for name, value in rows:
        sheet.add_row(name, value)
    return sheet


def _time(value: str | None) -> str:
    return f"{value}  ({when(value)})" if value else "-"


def _counts(counts: dict[str, int], total: int) -> str:
    if not counts:
        return str(total)
    parts = ", ".join(f"{escape(k)} {v}" for k, v in sorted(counts.items()))
    return f"{total}  ({parts})"


def event_summary(event: dict[str, Any]) -> str:
    """What happened, in a few words, for one event of any type."""
    kind = str(event.get("type", ""))
    if found := item_of(event):
        line = describe_item(found[1])
        return line if len(line) <= 140 else line[:139] + "…"
    if unfollower := event.get("unfollower"):
        return f"- @{unfollower.get('username', '?')}"
    if "followersCount" in event:
        delta = event.get("delta")
        sign = f" ({delta:+d})" if isinstance(delta, int) else ""
        return f"{event['followersCount']} followers{sign}"
    if kind == "stream:error":
        return f"error: {event.get('error')} ({event.get('consecutiveErrors')} in a row)"
    if reason := event.get("reason"):
        return str(reason)
    return kind.removeprefix("stream:")


def events_table(events: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("detected", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("what")
    table.add_column("offset", no_wrap=True, style="dim")
    for e in events:
        table.add_row(
            escape(str(e.get("detectedAt", "-"))),
            escape(str(e.get("type", "")).removeprefix("stream:")),
            escape(event_summary(e)),
            escape(str(e.get("offset", ""))),
        )
    return table


def types_table(types: list[dict[str, Any]]) -> Table:
    """The catalog: one row per stream type."""
    table = Table(title=f"{len(types)} stream type(s)", title_justify="left", show_lines=True)
    for column in ("type", "platform", "target", "events", "options"):
        table.add_column(column, no_wrap=column in ("type", "platform"))
    for t in types:
        names = [str(t.get("type"))] + [str(a) for a in t.get("aliases") or []]
        aim = t.get("target") or {}
        options = t.get("options") or {}
        table.add_row(
            escape("\n".join(names)),
            escape(str(t.get("platform", ""))),
            escape(f"{aim.get('description', '')}\ne.g. {aim.get('example', '')}"),
            escape("\n".join(str(e) for e in t.get("events") or [])),
            escape("\n".join(f"{k}: {v}" for k, v in options.items()) or "-"),
        )
    return table


def mapping_table(title: str, values: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in values.items():
        table.add_row(escape(str(key)), escape(str(value)))
    return table
