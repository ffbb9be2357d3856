"""Alert rules over a push stream: windows close while its connection is up (a push stream
never polls, so ``lastPoll`` cannot move it), freeze while the connection is down (Error,
never a false resolve), and go on once it is back."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from herald.alerts.pipeline import NAME
from herald.config import Settings
from herald.push.base import PushStream
from herald.push.memory import MemoryConnection, MemoryFeed, MemoryPushSource
from herald.push.wsconn import PushConnectionError
from herald.service import Herald
from tests.platforms.feed import TYPE
from tests.push.support import start, wait_joined
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(120)

WINDOW = 2.0
RULE = {
    "id": "busy-feed",
    "type": "volume",
    "condition": "above",
    "threshold": 2,
    "window": WINDOW,
    "for": 0,
    "channel": "ops",
}


class Breakable(MemoryPushSource):
    """The memory source whose connects fail while ``down`` is set."""

    down = False

    async def connect(
        self, key: str, streams: Sequence[PushStream], cursor: str | None
    ) -> MemoryConnection:
        if self.down:
            self.connects += 1
            raise PushConnectionError("unreachable", "the upstream is down")
        return await super().connect(key, streams, cursor)


@pytest.fixture
def source(feed: MemoryFeed) -> Breakable:
    return Breakable(feed, stream_types=(TYPE,))


@pytest.fixture
async def herald(settings: Settings, source: Breakable) -> AsyncIterator[Herald]:
    tuned = settings.model_copy(
        update={"pipeline_skew": 0.0, "alerts_block": 0.05, "max_errors": 10_000}
    )
    async with Herald(tuned, sources=[source], delivery=False) as running:
        yield running


async def alert_events(herald: Herald) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after: str | None = None
    while bodies := await herald.log.read(after, 1000):
        after = str(bodies[-1]["offset"])
        out.extend(b for b in bodies if str(b["type"]).startswith("alert:"))
    return out


async def status(herald: Herald) -> dict[str, Any]:
    return dict((await herald.alerts.get_rule(RULE["id"]))["status"])


async def test_rules_over_a_push_stream_move_while_connected_and_freeze_while_down(
    herald: Herald, source: Breakable, feed: MemoryFeed
) -> None:
    sid = await start(herald)
    await wait_joined(herald, sid)
    await herald.alerts.create_rule(RULE)  # every stream: the push stream is its input

    async def evaluated() -> bool:
        return (await status(herald))["lastEvaluatedAt"] is not None

    # no poll ever happens; the connection's status alone moves the rule on
    await wait_until(evaluated, 30, what="a window of the push stream closed")
    for n in range(5):
        feed.publish("news", f"item {n}")

    async def types() -> list[str]:
        return [e["type"] for e in await alert_events(herald)]

    await wait_until(lambda: _has(types, ["alert:firing"]), 30, what="the firing")

    # the upstream goes down: every reconnect fails, the mark freezes where it was
    source.down = True
    source.drop()
    down_at = time.time()
    store = herald.store

    async def failing_long() -> bool:
        record = await store.get(sid)
        return record is not None and record.consecutive_errors >= 3

    await wait_until(failing_long, 30, what="the connection failing")
    await wait_until(lambda: _state(herald, "error"), 30, what="the rule shows the error")
    frozen = (await status(herald))["lastEvaluatedAt"]

    # several windows' time passes while it is down: an error event appended after them,
    # committed by the evaluator, proves the evaluator ran past them
    async def evaluated_past() -> bool:
        errors = [
            e
            for e in await _log(herald)
            if e["type"] == "stream:error"
            and e["streamId"] == sid
            and _at(e) > down_at + 3 * WINDOW
        ]
        if not errors:
            return False
        committed = await _alerts_offset(herald)
        return committed is not None and _key(committed) >= _key(str(errors[0]["offset"]))

    await wait_until(evaluated_past, 60, what="the evaluator past three windows of outage")
    assert await types() == ["alert:firing"], "no resolve on missing data"
    now = await status(herald)
    assert now["lastEvaluatedAt"] == frozen, "no window closed while the connection was down"
    assert now["state"] == "error"

    # back up: the connection's status moves the mark again; empty windows resolve it once
    source.down = False
    await wait_until(
        lambda: _has(types, ["alert:firing", "alert:resolved"]), 30, what="the resolve"
    )
    assert await types() == ["alert:firing", "alert:resolved"]


async def _has(types: Any, expected: list[str]) -> bool:
    found: list[str] = await types()
    return found == expected


async def _state(herald: Herald, state: str) -> bool:
    return (await status(herald))["state"] == state


async def _log(herald: Herald) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after: str | None = None
    while bodies := await herald.log.read(after, 1000):
        after = str(bodies[-1]["offset"])
        out.extend(bodies)
    return out


def _at(event: dict[str, Any]) -> float:
    from datetime import datetime

    return datetime.fromisoformat(str(event["detectedAt"]).replace("Z", "+00:00")).timestamp()


def _key(offset: str) -> tuple[int, int]:
    ms, _, seq = offset.partition("-")
    return int(ms), int(seq)


async def _alerts_offset(herald: Herald) -> str | None:
    """The offset the alerts evaluator last committed (its batch applied)."""
    assert herald.alerts_host is not None
    state = await herald.alerts_host.runner._store.load(NAME)
    return state.offset
