"""Every event the engine builds carries the stream's platform and target, whatever kind it
is, and a stream whose type left the catalog still says something for its platform."""

from __future__ import annotations

from herald.engine import changes
from herald.engine.diff import FollowerDiff
from herald.events import EventType
from herald.sources import catalog
from herald.sources.base import Gap, Notice
from herald.sources.models import User
from herald.store.streams import StreamRecord
from tests.platforms import demo


def record(type_: str, target: str) -> StreamRecord:
    return StreamRecord(id="s1", type=type_, username=target, interval=60, created_at=0)


def test_every_kind_of_event_carries_platform_and_target() -> None:
    follower = record("follower", "nasa")
    diff = FollowerDiff(count=3, previous=2, new=[User("7", "amy")], lost=[User("8", "bo")])
    events = [
        *changes.follower_events(follower, diff),
        changes.gap_event(follower, Gap("more than 5 pages", missed=40)),
        changes.notice_event(follower, Notice("churn", "ids changed")),
        changes.error_event(
            follower, occurrence=1, kind="upstream", message="503", consecutive=1, retry_at=None
        ),
        changes.lifecycle_event(follower, EventType.STARTED, "0"),
    ]
    assert [e.type for e in events[:3]] == [
        EventType.FOLLOWER_COUNT,
        EventType.FOLLOWER_NEW,
        EventType.FOLLOWER_LOST,
    ]
    for event in events:
        body = event.body()
        assert (body["platform"], body["target"], body["username"]) == ("x", "nasa", "nasa")
    assert events[1].body()["follower"] == {"id": "7", "username": "amy", "name": ""}


def test_platform_of_a_registered_and_of_an_unknown_type() -> None:
    with catalog.platform(demo):
        event = changes.lifecycle_event(record("demo:thing", "attic"), EventType.STOPPED, "1")
        assert event.body()["platform"] == "demo"
    # the plug-in is gone, its stored stream is not: its stop event still names a platform
    assert changes.platform_of("demo:thing") == "demo"
    assert changes.platform_of("legacy") == ""
