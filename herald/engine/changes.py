"""Turn a diff into events, with object ids that stay the same if the poll is retried.

Every event is built here, through :func:`_event`, so every body carries the stream's
``platform`` (from its type's catalog entry) and ``target`` the same way: detected
changes, errors, notices, gaps and lifecycle events alike. A post-like item (one under a
payload key the catalog scores) gets its ``sentiment`` here too, before the append: a
retried poll builds the same body, and nothing appended is scored again.
"""

from __future__ import annotations

from typing import Any

from herald.engine.diff import FollowerDiff, PostDiff
from herald.engine.engagement import MetricsChange
from herald.events import Event, EventType
from herald.push.base import PushChange
from herald.sentiment import scored
from herald.sources.base import Change, Gap, Notice
from herald.sources.catalog import stream_types
from herald.sources.models import Item
from herald.store.engagement import Tracked
from herald.store.streams import StreamRecord


def platform_of(stream_type: str) -> str:
    """The platform of a type; for a type the catalog no longer knows (a stored stream of a
    removed plug-in), the part before its colon, so its stop event still says something."""
    spec = stream_types().find(stream_type)
    if spec is not None:
        return spec.platform
    head, sep, _ = stream_type.partition(":")
    return head if sep else ""


def _event(
    record: StreamRecord, event_type: EventType, object_id: str, payload: dict[str, Any]
) -> Event:
    return Event(
        event_type,
        record.id,
        record.username,
        object_id,
        scored(payload, stream_types().sentiment_fields),
        platform=platform_of(record.type),
    )


def change_event(record: StreamRecord, change: PushChange) -> Event:
    """A push source's change as an event of its stream (built like every other event)."""
    return _event(record, change.type, change.object_id, change.payload)


def source_change_event(record: StreamRecord, change: Change) -> Event:
    """A change a polled source reported beside its items (an unreadable conversation)."""
    return _event(record, change.type, change.object_id, change.payload)


def post_events(record: StreamRecord, diff: PostDiff[Item]) -> list[Event]:
    """One event per new item, named and shaped by the stream's type."""
    spec = stream_types().get(record.type)
    return [
        _event(record, spec.new_event, item.id, {spec.payload_key: spec.payload(item)})
        for item in diff.new
    ]


def follower_events(record: StreamRecord, diff: FollowerDiff) -> list[Event]:
    """Follower changes carry the poll sequence number: one account may follow, leave and
    follow again, and each of those is its own event. ``new`` is named and shaped by the
    type's entry; ``lost`` and ``count`` are the same for every platform (DESIGN §3)."""
    spec = stream_types().get(record.type)
    seq = record.seq + 1
    events: list[Event] = []
    if diff.count_changed and diff.previous is not None:
        events.append(
            _event(
                record,
                EventType.FOLLOWER_COUNT,
                f"{diff.count}#{seq}",
                {
                    "followersCount": diff.count,
                    "previous": diff.previous,
                    "delta": diff.count - diff.previous,
                },
            )
        )
    events.extend(
        _event(record, spec.new_event, f"{user.id}#{seq}", {spec.payload_key: spec.payload(user)})
        for user in diff.new
    )
    events.extend(
        _event(
            record,
            EventType.FOLLOWER_LOST,
            f"{user.id}#{seq}",
            {"unfollower": user.unfollower_payload()},
        )
        for user in diff.lost
    )
    return events


def error_event(
    record: StreamRecord,
    *,
    occurrence: int,
    kind: str,
    message: str,
    consecutive: int,
    retry_at: str | None,
) -> Event:
    """``occurrence`` is the stream's failure number: every failure is its own event, also
    after a resume, while a retried append of the same one stays one."""
    payload: dict[str, object] = {
        "error": message,
        "kind": kind,
        "consecutiveErrors": consecutive,
    }
    if retry_at:
        payload["retryAt"] = retry_at
    return _event(record, EventType.ERROR, f"{occurrence}.{kind}", payload)


def notice_event(record: StreamRecord, notice: Notice, *, marker: str | None = None) -> Event:
    """A source's notice: a ``stream:error`` that counts no error, once per poll and kind.
    A push stream has no polls: ``marker`` (the connection's position) stands for the poll."""
    payload: dict[str, object] = {
        "error": notice.message,
        "kind": notice.kind,
        "consecutiveErrors": record.consecutive_errors,
        "notice": True,
    }
    at = marker if marker is not None else str(record.seq + 1)
    return _event(record, EventType.ERROR, f"n{at}.{notice.kind}", payload)


def gap_event(record: StreamRecord, gap: Gap, *, marker: str | None = None) -> Event:
    """One per poll that could not see everything; the poll sequence number keeps it
    append-once across a retried poll. A push stream's ``marker`` is the connection's
    saved position and the gap's place in its batch: a replay from there is the same gap."""
    payload: dict[str, object] = {"reason": gap.reason, "streamType": record.type}
    if gap.missed is not None:
        payload["missed"] = gap.missed
    if gap.pages:
        payload["pages"] = gap.pages
    at = marker if marker is not None else f"{record.seq + 1}"
    return _event(record, EventType.GAP, at, payload)


def lifecycle_event(
    record: StreamRecord, event_type: EventType, marker: str, **extra: object
) -> Event:
    """Lifecycle payloads say ``streamType``: ``type`` is the event name on the wire."""
    payload: dict[str, object] = {
        "streamType": record.type,
        "status": record.status,
        "interval": int(record.interval * 1000),
        **extra,
    }
    return _event(record, event_type, marker, payload)


def metrics_events(record: StreamRecord, changed: list[MetricsChange]) -> list[Event]:
    """``stream:tweet:metrics``: the poll sequence number and a hash of the values keep one
    change append-once across a retried poll, while the same counts seen again later (an
    unlike, then a like) are a change of their own. The item sits under the type's payload
    key, as in its new-item events."""
    key = stream_types().get(record.type).payload_key
    seq = record.seq + 1
    return [
        _event(
            record,
            EventType.TWEET_METRICS,
            f"{change.tweet_id}#{seq}.{change.digest}",
            {
                key: change.tweet,
                "metrics": change.metrics,
                "previous": change.previous,
                "delta": change.delta,
            },
        )
        for change in changed
    ]


def deleted_events(record: StreamRecord, deleted: list[Tracked]) -> list[Event]:
    """``stream:tweet:deleted`` with what herald knew of the tweet (its metrics as last
    reported); a tweet is deleted once, so its id is the object id."""
    key = stream_types().get(record.type).payload_key
    events: list[Event] = []
    for known in deleted:
        item = dict(known.tweet)
        if known.metrics:
            item["metrics"] = dict(known.metrics)
        events.append(_event(record, EventType.TWEET_DELETED, str(item.get("id", "")), {key: item}))
    return events
