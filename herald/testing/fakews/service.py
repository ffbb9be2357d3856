"""One running WebSocket stand-in: its recording, pace, faults, open sessions and counts."""

from __future__ import annotations

from collections import Counter, deque
from typing import TYPE_CHECKING, Any, cast

from starlette.requests import HTTPConnection

from herald.testing.fakews.faults import Faults
from herald.testing.fakews.recording import Recording

if TYPE_CHECKING:
    from herald.testing.fakews.session import Session

KEEP_MESSAGES = 100
"""Client messages kept for ``GET /_fakews/requests`` (the newest)."""


class FakeWs:
    """Everything one stand-in knows; ``reset()`` clears faults and counts."""

    def __init__(self, recording: Recording, speed: float | None = 1.0, loop: bool = False) -> None:
        self.recording = recording
        self.speed = speed
        """Replay pace: 1.0 as recorded, N times faster, None as fast as the socket takes."""
        self.loop = loop
        self.sessions: set[Session] = set()
        self.generation = 0
        self.reset()

    def reset(self) -> None:
        self.faults = Faults()
        self.counts: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.messages: deque[str] = deque(maxlen=KEEP_MESSAGES)

    def restart(
        self, *, pace: bool = False, speed: float | None = None, loop: bool | None = None
    ) -> int:
        """Every open session replays from the first frame again (with ``pace``, at
        ``speed`` from now on; ``loop`` when given); returns how many sessions restarted."""
        if pace:
            self.speed = speed
        if loop is not None:
            self.loop = loop
        self.generation += 1
        for session in self.sessions:
            session.wake()
        return len(self.sessions)

    def inject(self, frames: list[str]) -> int:
        """Send ``frames`` to every open session now; returns how many sessions took them."""
        for session in self.sessions:
            session.inject(frames)
        return len(self.sessions)

    def report(self) -> dict[str, Any]:
        return {
            "connections": self.counts["connections"],
            "open": len(self.sessions),
            "refused": self.counts["refused"],
            "framesSent": self.counts["frames"],
            "skipped": self.counts["skipped"],
            "replies": self.counts["replies"],
            "clientMessages": self.counts["messages"],
            "injected": self.counts["injected"],
            "replays": self.counts["replays"],
            "faultsFired": dict(self.faults.fired),
            "kinds": dict(self.kinds),
            "messages": list(self.messages),
            "sessions": [s.describe() for s in self.sessions],
        }


def fakews_of(conn: HTTPConnection) -> FakeWs:
    return cast(FakeWs, conn.app.state.fakews)
