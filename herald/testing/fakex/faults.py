"""Injected failures: the next ``count`` GraphQL requests (optionally of one operation) fail."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultMode = Literal[
    "timeout",
    "garbage",
    "empty",
    "logged_out",
    "short",
    # mutations only (herald/testing/fakex/mutations.py): X's 226 and 326 refusals, and a
    # write applied whose answer never comes
    "automated",
    "locked",
    "timeout_after_commit",
    # the browser path (herald/testing/fakex/profile_page.py)
    "signature_refused",
    "challenge",
]
# Faults that only herald's own client meets: a request from the stand-in's profile or
# search page (it carries a transaction id the page was given, as x.com's web app computes
# one X accepts) passes them and does not use them up. Synthetic: X's real check is its
# x-client-transaction-id algorithm, which a browser running X's script satisfies.
PAGE_PASSES: frozenset[str] = frozenset({"signature_refused", "challenge"})
# What X's challenge interstitial looks like to an HTTP client: HTML, not JSON.
CHALLENGE_PAGE = (
    b"<!doctype html><html><head><title>Just a moment...</title></head><body>"
    b"<noscript>Enable JavaScript and cookies to continue</noscript>"
    b"<div id='challenge-form'>Checking your browser before accessing x.com</div>"
    b"<script>/* challenge */</script></body></html>"
)

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
    keep: int = 1  # tweets or users a short page keeps

    def payload(self) -> dict[str, Any]:
        return asdict(self)


def cut_page(body: Any, keep: int) -> Any:
    """The ``short`` fault: the answer with only its first ``keep`` timeline entries (the
    pinned tweet and the cursors stay). The cursors are the full page's, so the next page
    starts after the entries left out: X answering with fewer than it was asked for."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "instructions" and isinstance(value, list):
                for instruction in value:
                    _cut_entries(instruction, keep)
            else:
                cut_page(value, keep)
    elif isinstance(body, list):
        for value in body:
            cut_page(value, keep)
    return body


def _cut_entries(instruction: Any, keep: int) -> None:
    entries = instruction.get("entries") if isinstance(instruction, dict) else None
    if not isinstance(entries, list):
        return
    kept: list[Any] = []
    items = 0
    for entry in entries:
        if str(entry.get("entryId", "")).startswith("cursor-"):
            kept.append(entry)
        elif items < keep:
            kept.append(entry)
            items += 1
    instruction["entries"] = kept


class Faults:
    """A queue of faults; each request takes one shot of the first fault that matches it."""

    def __init__(self) -> None:
        self.queue: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.queue.append(fault)

    def take(self, operation: str, *, from_page: bool = False) -> Fault | None:
        """The fault this request meets; a page's request passes the PAGE_PASSES modes."""
        for fault in self.queue:
            if from_page and fault.mode in PAGE_PASSES:
                continue
            if fault.operation in (None, operation):
                fault.count -= 1
                if fault.count <= 0:
                    self.queue.remove(fault)
                return fault
        return None

    def clear(self) -> int:
        """Drop every queued fault; returns how many there were."""
        count, self.queue = len(self.queue), []
        return count

    def pending(self) -> list[dict[str, Any]]:
        return [f.payload() for f in self.queue]
