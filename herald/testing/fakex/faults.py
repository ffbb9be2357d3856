"""Injected failures: the next ``count`` GraphQL requests (optionally of one operation) fail."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultMode = Literal["timeout", "garbage", "empty", "logged_out"]

# X's error codes for the statuses a fault may answer with.
STATUS_ERRORS: dict[int, tuple[int, str]] = {
    401: (32, "Could not authenticate you."),
    403: (353, "This request requires a matching csrf cookie and header."),
    404: (34, "Sorry, that page does not exist."),
    429: (88, "Rate limit exceeded."),
    503: (130, "Over capacity"),
}
# A body that is neither JSON nor empty: what a proxy error page or a cut-off stream gives.
GARBAGE = b'{"data":{"user":{"result":{"__typename":"User","timeline":<html><body>upstream'


def status_error(status: int) -> tuple[int, str]:
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status]
    return (131, "Internal error") if status >= 500 else (214, "Bad request.")


@dataclass
class Fault:
    count: int
    status: int | None = None
    mode: FaultMode | None = None
    operation: str | None = None
    reset_in: int = 60  # seconds until x-rate-limit-reset, for status 429
    seconds: float = 60.0  # how long a timeout hangs

    def payload(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    """A queue of faults; each request takes one shot of the first fault that matches it."""

    def __init__(self) -> None:
        self.queue: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.queue.append(fault)

    def take(self, operation: str) -> Fault | None:
        for fault in self.queue:
            if fault.operation in (None, operation):
                fault.count -= 1
                if fault.count <= 0:
                    self.queue.remove(fault)
                return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        return [f.payload() for f in self.queue]
