"""Events for the dashboard tests, appended to the log as herald's pipelines would."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from herald.events import Event, EventType
from tests.dashboard.dash_support import DashServer

_ids = itertools.count(1_900_000_000_000_000_000)


def iso(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ago(**delta: float) -> str:
    return iso(datetime.now(UTC) - timedelta(**delta))


def tweet(
    stream_id: str, username: str, text: str, compound: float | None = None, **extra: Any
) -> Event:
    """A ``stream:tweet:new`` with ``sentiment: {compound, label}`` (none: not scored)."""
    tid = str(next(_ids))
    item: dict[str, Any] = {
        "id": tid,
        "text": text,
        "author": username,
        "authorName": username.title(),
        "timestamp": iso(),
        "url": f"https://x.com/{username}/status/{tid}",
        "isRetweet": False,
        "isReply": False,
    }
    if compound is not None:
        label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        item["sentiment"] = {"compound": compound, "label": label}
    item.update(extra)
    return Event(EventType.TWEET_NEW, stream_id, username, tid, {"tweet": item}, platform="x")


def metrics(stream_id: str, username: str, delta: dict[str, int]) -> Event:
    """A ``stream:tweet:metrics`` ``{tweet, metrics, previous, delta}``."""
    tid = str(next(_ids))
    previous = {k: 10 for k in delta}
    now = {k: 10 + v for k, v in delta.items()}
    payload = {
        "tweet": {"id": tid, "text": "an older tweet", "author": username},
        "metrics": now,
        "previous": previous,
        "delta": delta,
    }
    return Event(EventType.TWEET_METRICS, stream_id, username, f"{tid}:1", payload, platform="x")


def alert(
    kind: EventType,
    rule_id: str,
    fingerprint: str,
    value: float,
    threshold: float,
    detected_at: str | None = None,
) -> Event:
    """``alert:firing`` / ``alert:resolved`` ``{alert: {...}, channel}``."""
    firing = kind is EventType.ALERT_FIRING
    body: dict[str, Any] = {
        "ruleId": rule_id,
        "fingerprint": fingerprint,
        "state": "firing" if firing else "resolved",
        "value": value,
        "threshold": threshold,
        "window": 300,
        "labels": {"stream": "herald_news"},
        "samples": ["1900000000000000001"],
        "startsAt": ago(minutes=2),
    }
    if not firing:
        body["endsAt"] = iso()
    event = Event(
        kind,
        "alerts",
        "",
        f"{fingerprint}:{body['state']}",
        {"alert": body, "channel": "ops"},
        correlation_id=fingerprint,
    )
    if detected_at:
        event.detected_at = detected_at
    return event


async def append(dash: DashServer, stream_id: str, *events: Event) -> None:
    assert dash.herald is not None
    await dash.herald.log.append(stream_id, list(events))
