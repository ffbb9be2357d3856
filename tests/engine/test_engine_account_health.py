"""``account:health`` through the whole poll path: a stream polled with an account that X
refuses, then accepts again, puts the account's transitions in the global log beside the
stream's own ``stream:error``."""

from __future__ import annotations

from typing import Any

from herald.config import Settings
from tests.engine.x_world import COOKIE, XWorld, x_world


async def logged(world: XWorld, kind: str) -> list[dict[str, Any]]:
    entries = await world.herald.log.after(None, 1000)
    return [dict(e.body) for e in entries if e.type == kind]


async def test_a_refused_then_accepted_cookie_is_two_transitions_in_the_log(
    settings: Settings,
) -> None:
    async with x_world(settings) as world:
        stream = await world.start("tweet", "alice")
        await world.poll(stream)
        await world.control("POST", "/faults", json={"status": 401, "count": 1})
        assert (await world.poll(stream))["outcome"] == "error"
        assert (await world.poll(stream))["outcome"] == "ok"
        events = await logged(world, "account:health")
        assert [(e["previous"], e["state"]) for e in events] == [
            ("ok", "auth_failed"),
            ("auth_failed", "ok"),
        ]
        [account] = await world.herald.accounts().list()
        assert {e["streamId"] for e in events} == {f"account:{account.id}"}
        assert {e["accountId"] for e in events} == {account.id}
        errors = await logged(world, "stream:error")
        assert len(errors) == 1 and errors[0]["error"] == events[0]["reason"]
        assert COOKIE not in str(events)
        # the stream's own history holds its error, not the account's events
        assert {e["type"] for e in await world.events(stream)} == {
            "stream:started",
            "stream:error",
        }
