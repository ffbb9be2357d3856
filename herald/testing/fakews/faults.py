"""Injected failures: what goes wrong, and for how many frames or connections.

A fault waits in a queue until a connection is about to send a recorded frame that it
applies to (``after`` frames sent on that connection, of ``kind`` when given); each time it
fires it uses up one of its ``count``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultMode = Literal["drop", "close", "stall", "garbage", "binary", "oversized", "skip"]
"""``drop``: the connection ends with an error close (1011); ``close``: a normal close
(``code``, default 1000); ``stall``: nothing is sent for ``seconds`` (the socket stays
open); ``garbage``: a text frame that is not JSON goes out before the frame; ``binary``: a
binary frame of random bytes does; ``oversized``: a JSON frame of ``bytes`` bytes does;
``skip``: the frame is not sent at all (a gap the client can only see from sequence
numbers)."""

GARBAGE = '{"stream": "cut off mid-frame", "data": {"e": "aggTr'
BINARY = bytes(range(256)) * 4


@dataclass
class Fault:
    mode: FaultMode
    count: int = 1
    after: int = 0
    """Fires only on a connection that has sent at least this many recorded frames."""
    kind: str | None = None
    """Fires only before a frame of this kind (``aggTrade``, ``match``...)."""
    seconds: float = 5.0
    bytes: int = 2 * 1024 * 1024
    code: int = 1000

    def payload(self) -> dict[str, Any]:
        return asdict(self)


def oversized(size: int) -> str:
    """A valid JSON frame of about ``size`` bytes: only a size cap stops it."""
    return '{"type":"oversized","pad":"' + "x" * max(0, size - 30) + '"}'


class Faults:
    """The pending faults, in the order they were added."""

    def __init__(self) -> None:
        self.queue: list[Fault] = []
        self.fired: dict[str, int] = {}

    def add(self, fault: Fault) -> None:
        self.queue.append(fault)

    def take(self, sent: int, kind: str) -> Fault | None:
        for fault in self.queue:
            if sent >= fault.after and fault.kind in (None, kind):
                fault.count -= 1
                if fault.count <= 0:
                    self.queue.remove(fault)
                self.fired[fault.mode] = self.fired.get(fault.mode, 0) + 1
                return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        return [f.payload() for f in self.queue]
