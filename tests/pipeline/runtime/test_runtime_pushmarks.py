"""The mark of a push connection from the status its owner writes: where it has surely come
while connected, nothing (frozen by the caller) while it is down or has no owner."""

from __future__ import annotations

from herald.pipeline.runtime.pushmarks import connection_mark


def test_connected_and_idle_is_when_the_status_was_written() -> None:
    status = {"connected": "1", "at": "1000.5", "buffered": "0", "lastMessage": "900.0"}
    assert connection_mark(status) == 1000.5


def test_connected_and_behind_is_the_upstream_time_of_the_last_appended_batch() -> None:
    status = {"connected": "1", "at": "1000.0", "buffered": "40", "lastMessage": "990.0"}
    assert connection_mark(status | {"lag": "30.0"}) == 960.0
    assert connection_mark(status | {"lastMessage": ""}) is None


def test_down_unowned_or_unknown_holds_nothing() -> None:
    assert connection_mark({}) is None  # no owner wrote a status (or it expired)
    assert connection_mark({"connected": "0", "at": "1000.0", "buffered": "0"}) is None
    assert connection_mark({"connected": "1", "buffered": "0"}) is None  # no ``at``
    assert connection_mark({"connected": "1", "at": "soon", "buffered": "0"}) is None
