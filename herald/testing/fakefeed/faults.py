"""Injected failures: the next ``count`` requests (of one feed, or of any) go wrong."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultMode = Literal[
    "not_modified",
    "rate_limited",
    "server_error",
    "status",
    "html",
    "oversized",
    "garbage",
    "redirect_loop",
    "empty",
]

HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Welcome</title></head>"
    b"<body><h1>This is a web page</h1><p>Not a feed.</p></body></html>\n"
)
# Cut off mid-element: what a broken generator or a truncated proxy answer gives.
GARBAGE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>x</title>'
    b"<item><title>cut off & broken</titl <link>http://example.invalid/</channel>"
)
CHUNK = b"<!-- " + b"x" * 65_000 + b" -->\n"


@dataclass
class Fault:
    mode: FaultMode
    count: int = 1
    feed: str | None = None
    status: int | None = None
    retry_after: int | None = None
    """Seconds for ``Retry-After``: sent with any fault that sets it; ``rate_limited``
    sends 60 when unset."""
    bytes: int = 32 * 1024 * 1024

    def payload(self) -> dict[str, Any]:
        return asdict(self)


async def oversized(size: int) -> AsyncIterator[bytes]:
    """A well-formed start, then comments until ``size`` bytes: only a cap stops it."""
    yield b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
    sent = 0
    while sent < size:
        yield CHUNK
        sent += len(CHUNK)
    yield b"</channel></rss>\n"


class Faults:
    """A queue; each feed request takes one shot of the first fault that matches it."""

    def __init__(self) -> None:
        self.queue: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.queue.append(fault)

    def take(self, feed: str) -> Fault | None:
        for fault in self.queue:
            if fault.feed in (None, feed):
                fault.count -= 1
                if fault.count <= 0:
                    self.queue.remove(fault)
                return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        return [f.payload() for f in self.queue]
