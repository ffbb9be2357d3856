"""Event names, the event envelope, and the eventId rules.

Every transport sends the same JSON body: the seed's payload (``{streamId, username,
tweet: {...}}`` and so on) plus ``type``, ``eventId``, ``offset``, ``detectedAt``, and the
stream's ``platform`` and ``target`` (the same value as ``username``, named for every
platform: a handle, a feed URL, ``user@instance``), and ``priority`` (0 low ... 3
critical; the type's default unless the event sets its own) and ``correlationId`` when the
event cites another (a command's id, an alert's fingerprint).

The event log stores that body *without* ``offset``: the offset is the global log entry
id, known only once Redis has appended the entry. Readers splice it in with
:func:`with_offset`, which works on the encoded bytes so an event is encoded once and
never re-serialised on its way to thousands of clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any

import orjson


class EventType(StrEnum):
    TWEET_NEW = "stream:tweet:new"
    MENTION_NEW = "stream:mention:new"
    FOLLOWER_NEW = "stream:follower:new"
    FOLLOWER_LOST = "stream:follower:lost"
    FOLLOWER_COUNT = "stream:follower:count"
    POST_NEW = "stream:post:new"
    ENTRY_NEW = "stream:entry:new"
    ERROR = "stream:error"
    GAP = "stream:gap"
    STARTED = "stream:started"
    PAUSED = "stream:paused"
    RESUMED = "stream:resumed"
    UPDATED = "stream:updated"
    STOPPED = "stream:stopped"
    PIPELINE_OUTPUT = "pipeline:output"
    PIPELINE_ERROR = "pipeline:error"
    # push sources (Bluesky, any WebSocket feed)
    MESSAGE_NEW = "stream:message:new"
    TRADE_NEW = "stream:trade:new"
    TICKER_UPDATE = "stream:ticker:update"
    POST_DELETED = "stream:post:deleted"
    # X engagement, deletions and account health
    TWEET_DELETED = "stream:tweet:deleted"
    TWEET_METRICS = "stream:tweet:metrics"
    ACCOUNT_HEALTH = "account:health"
    # alerts
    ALERT_FIRING = "alert:firing"
    ALERT_RESOLVED = "alert:resolved"
    # commands (X writes): the lifecycle, with correlationId = the command's id
    COMMAND_REQUESTED = "command:requested"
    COMMAND_SUCCEEDED = "command:succeeded"
    COMMAND_FAILED = "command:failed"
    COMMAND_UNCERTAIN = "command:uncertain"
    # X direct messages; an end-to-end encrypted conversation herald cannot read
    DM_NEW = "stream:dm:new"
    DM_UNREADABLE = "stream:dm:unreadable"
    # a webhook endpoint's delivery health (auto-disabled after a long failure)
    WEBHOOK_HEALTH = "webhook:health"


EVENT_TYPES: tuple[str, ...] = tuple(e.value for e in EventType)

# The part of an eventId before the object id, per event type.
_KIND: dict[EventType, str] = {
    EventType.TWEET_NEW: "tweet",
    EventType.MENTION_NEW: "mention",
    EventType.FOLLOWER_NEW: "follower.new",
    EventType.FOLLOWER_LOST: "follower.lost",
    EventType.FOLLOWER_COUNT: "follower.count",
    EventType.POST_NEW: "post",
    EventType.ENTRY_NEW: "entry",
    EventType.ERROR: "error",
    EventType.GAP: "gap",
    EventType.STARTED: "started",
    EventType.PAUSED: "paused",
    EventType.RESUMED: "resumed",
    EventType.UPDATED: "updated",
    EventType.STOPPED: "stopped",
    EventType.PIPELINE_OUTPUT: "pipeline.output",
    EventType.PIPELINE_ERROR: "pipeline.error",
    EventType.MESSAGE_NEW: "message",
    EventType.TRADE_NEW: "trade",
    EventType.TICKER_UPDATE: "ticker",
    EventType.POST_DELETED: "post.deleted",
    EventType.TWEET_DELETED: "tweet.deleted",
    EventType.TWEET_METRICS: "tweet.metrics",
    EventType.ACCOUNT_HEALTH: "account.health",
    EventType.ALERT_FIRING: "alert.firing",
    EventType.ALERT_RESOLVED: "alert.resolved",
    EventType.COMMAND_REQUESTED: "command.requested",
    EventType.COMMAND_SUCCEEDED: "command.succeeded",
    EventType.COMMAND_FAILED: "command.failed",
    EventType.COMMAND_UNCERTAIN: "command.uncertain",
    EventType.DM_NEW: "dm",
    EventType.DM_UNREADABLE: "dm.unreadable",
    EventType.WEBHOOK_HEALTH: "webhook.health",
}


class Priority(IntEnum):
    """How urgent an event is (DESIGN §5): a slow client's backlog sends higher first."""

    LOW = 0
    NORMAL = 1
    HIGH = 2
    CRITICAL = 3


PRIORITIES: tuple[int, ...] = tuple(Priority)

# Every type's default priority (an event may carry its own, e.g. set by an alert rule).
# Routine news is NORMAL; high-volume numbers (counts, metrics, market data) are LOW;
# what needs a person's attention (failures, gaps, health, a resolved alert) is HIGH;
# a firing alert is CRITICAL.
DEFAULT_PRIORITY: dict[EventType, Priority] = {
    EventType.TWEET_NEW: Priority.NORMAL,
    EventType.MENTION_NEW: Priority.NORMAL,
    EventType.FOLLOWER_NEW: Priority.NORMAL,
    EventType.FOLLOWER_LOST: Priority.NORMAL,
    EventType.FOLLOWER_COUNT: Priority.LOW,
    EventType.POST_NEW: Priority.NORMAL,
    EventType.ENTRY_NEW: Priority.NORMAL,
    EventType.ERROR: Priority.HIGH,
    EventType.GAP: Priority.HIGH,
    EventType.STARTED: Priority.NORMAL,
    EventType.PAUSED: Priority.NORMAL,
    EventType.RESUMED: Priority.NORMAL,
    EventType.UPDATED: Priority.NORMAL,
    EventType.STOPPED: Priority.HIGH,
    EventType.PIPELINE_OUTPUT: Priority.LOW,
    EventType.PIPELINE_ERROR: Priority.HIGH,
    EventType.MESSAGE_NEW: Priority.LOW,
    EventType.TRADE_NEW: Priority.LOW,
    EventType.TICKER_UPDATE: Priority.LOW,
    EventType.POST_DELETED: Priority.NORMAL,
    EventType.TWEET_DELETED: Priority.NORMAL,
    EventType.TWEET_METRICS: Priority.LOW,
    EventType.ACCOUNT_HEALTH: Priority.HIGH,
    EventType.ALERT_FIRING: Priority.CRITICAL,
    EventType.ALERT_RESOLVED: Priority.HIGH,
    EventType.COMMAND_REQUESTED: Priority.NORMAL,
    EventType.COMMAND_SUCCEEDED: Priority.NORMAL,
    EventType.COMMAND_FAILED: Priority.HIGH,
    EventType.COMMAND_UNCERTAIN: Priority.HIGH,
    EventType.DM_NEW: Priority.NORMAL,
    EventType.DM_UNREADABLE: Priority.HIGH,
    EventType.WEBHOOK_HEALTH: Priority.HIGH,
}


def priority_of(body: Mapping[str, Any]) -> int:
    """An event body's priority: its own ``priority``, else its type's default (a body
    appended before priorities existed), else NORMAL (a type this version does not know)."""
    value = body.get("priority")
    if isinstance(value, int) and not isinstance(value, bool) and value in PRIORITIES:
        return value
    name = body.get("type")
    known = EventType(name) if isinstance(name, str) and name in EVENT_TYPES else None
    return DEFAULT_PRIORITY.get(known, Priority.NORMAL) if known is not None else Priority.NORMAL


def event_id(event_type: EventType, object_id: str, stream_id: str) -> str:
    """``{kind}:{objectId}@{streamId}``: the same change always gets the same id.

    The object id must be stable across a retried poll: a tweet id, or for follower
    changes the follower id plus the snapshot version the change was detected against.
    """
    return f"{_KIND[event_type]}:{object_id}@{stream_id}"


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Event:
    """One detected change, before it is appended to the log.

    ``payload`` holds the seed's event-specific fields (``tweet``, ``follower``,
    ``followersCount``, ``error``...), already shaped for the wire. ``username`` is the
    stream's target; ``platform`` comes from its type's catalog entry.
    """

    type: EventType
    stream_id: str
    username: str
    object_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    detected_at: str = field(default_factory=utc_now_iso)
    platform: str = ""
    priority: int | None = None
    """0 low ... 3 critical (DESIGN §5); None: the type's default
    (:data:`DEFAULT_PRIORITY`). Every body carries one, so the log holds it and a replay
    orders a backlog exactly as live delivery did."""
    correlation_id: str | None = None
    """A command's id on its results, an alert's fingerprint on what it cites."""

    @property
    def event_id(self) -> str:
        return event_id(self.type, self.object_id, self.stream_id)

    def body(self) -> dict[str, Any]:
        """The wire body without ``offset``."""
        body: dict[str, Any] = {
            "type": self.type.value,
            "eventId": self.event_id,
            "streamId": self.stream_id,
            "username": self.username,
            "platform": self.platform,
            "target": self.username,
            "detectedAt": self.detected_at,
            **self.payload,
        }
        body["priority"] = (
            self.priority
            if self.priority is not None
            else int(DEFAULT_PRIORITY.get(self.type, Priority.NORMAL))
        )
        if self.correlation_id is not None:
            body["correlationId"] = self.correlation_id
        return body

    def encode(self) -> bytes:
        return orjson.dumps(self.body())


def with_offset(encoded: bytes, offset: str | bytes) -> bytes:
    """Splice ``"offset"`` into an encoded event body as its first key, without re-parsing."""
    off = offset.encode() if isinstance(offset, str) else offset
    return b'{"offset":"' + off + b'",' + encoded[1:]


def decode(encoded: bytes, offset: str | bytes | None = None) -> dict[str, Any]:
    """Parse a stored event body, adding its offset when known."""
    body: dict[str, Any] = orjson.loads(encoded)
    if offset is not None:
        body = {"offset": offset.decode() if isinstance(offset, bytes) else offset, **body}
    return body
