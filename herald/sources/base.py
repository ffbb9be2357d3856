"""The Source protocol: what the poller asks of any platform adapter.

A source has no Redis inside. It is handed a :class:`PollContext` (who to read, with which
account, what the last poll saw) and returns a :class:`FetchResult`. Failures are raised as
:class:`herald.errors.SourceError` subclasses, never returned as an empty result: an empty
or aborted fetch is an error of unknown outcome, not "nothing new".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from herald.events import EventType
from herald.sources.models import Item, User


@dataclass(frozen=True, slots=True)
class PollContext:
    """What a poll asks, and what the last polls saw, so a source knows when to stop paging.

    ``high_water`` is the newest item id seen so far (0: none): a paged source reads back
    until it meets an item at or below it. ``known`` holds the follower ids of the stored
    snapshot. The baseline poll reads one page only.
    """

    stream_id: str
    type: str
    username: str
    account_id: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    cursor: Mapping[str, str] = field(default_factory=dict)
    previous_count: int | None = None
    baseline: bool = True
    high_water: int = 0
    known: Collection[str] = frozenset()
    consecutive_errors: int = 0
    """Failed polls in a row before this one, and the kind of the last failure: a source
    with a second way to read may switch to it when the first keeps failing."""
    last_error_kind: str | None = None


@dataclass(frozen=True, slots=True)
class FollowerSnapshot:
    """The exact profile count, and the follower list when it was fetched.

    ``followers`` is None when no list was fetched (a stream that keeps no snapshot), and
    may be a part of the list, such as the newest page. ``complete`` says the list holds
    every follower, so absences mean "lost".
    """

    count: int
    followers: list[User] | None = None
    complete: bool = False


@dataclass(frozen=True, slots=True)
class Gap:
    """The source knows it could not see everything since the last poll (``stream:gap``).

    ``missed`` is how many items it knows it did not see (at least), when it knows.
    """

    reason: str
    missed: int | None = None
    pages: int = 0


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should know that is not a failure, such as feed guid churn.

    It goes out as a ``stream:error`` with ``notice: true`` and this ``kind``, and does not
    count as an error. A source says it once (it keeps a flag in its cursor).
    """

    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class Change:
    """A change a source reports beside its items, one event each: an X conversation
    herald cannot read (``stream:dm:unreadable``). ``object_id`` must stay the same when a
    retried poll finds the change again, so the event is appended once."""

    type: EventType
    object_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Window:
    """The part of a timeline one poll read without a hole: from the newest item down to
    the item of order ``floor``. An item seen before whose order lies strictly above
    ``floor`` and that the poll did not return is gone upstream (``stream:tweet:deleted``).
    A source sets it only when its read proves that: read from the top, page after page,
    and stopped where it met what the last poll saw or the end, not at the page bound."""

    floor: int


@dataclass(frozen=True, slots=True)
class FetchResult:
    items: Sequence[Item] = field(default_factory=list)
    followers: FollowerSnapshot | None = None
    cursor: Mapping[str, str] = field(default_factory=dict)
    """Kept with the stream and handed back in the next :class:`PollContext` (ETags,
    ``min_id``s, flags). Saved only when the poll commits."""
    gap: Gap | None = None
    min_interval: float | None = None
    """A floor on the delay to the next poll, seconds: the upstream asked for it
    (``Cache-Control: max-age``, ``Retry-After`` on a success)."""
    notices: tuple[Notice, ...] = ()
    window: Window | None = None
    """What the read covered without a hole; None: it proves nothing about absences."""
    changes: tuple[Change, ...] = ()
    """Events beside the items (also on the baseline: they are notices, not news)."""


@runtime_checkable
class Source(Protocol):
    """A platform adapter for one or more stream types."""

    stream_types: tuple[str, ...]

    async def fetch(self, ctx: PollContext) -> FetchResult: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class TokenKeeper(Protocol):
    """A source that stores its streams' tokens itself (a Mastodon access token is no X
    cookie): ``register_token`` keeps it encrypted and returns the id the stream keeps."""

    async def register_token(self, token: str) -> str: ...
