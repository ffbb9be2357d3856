"""Stream types as data: one :class:`StreamType` per type, and the catalog of all of them.

A stream type says which platform it belongs to, how its target is checked, which options
it takes, how the engine diffs what its source returns, which events it emits and what
their payload looks like. The engine, the API schemas, the CLI, MCP and the dashboard read
these entries; none of them names a type. Adding a platform is one module that exports its
entries (``STREAM_TYPES``) and a factory for its source (``build_source``), listed once in
:mod:`herald.sources.catalog`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from herald.errors import ValidationError
from herald.events import EventType

DiffKind = Literal["posts", "followers"]
"""``posts``: new items by id against the seen set (tweets, mentions, posts, entries).
``followers``: a follower snapshot with exact counts and honest ``lost``."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a stream of this type watches, and how a user's text becomes it.

    ``validate`` returns the normalised target or raises :class:`ValidationError` naming
    the ``target`` field.
    """

    description: str
    example: str
    validate: Callable[[object], str]
    pattern: str | None = None
    """A JSON-schema pattern of what ``validate`` accepts, when one regex can say it."""


def no_options(value: Mapping[str, Any]) -> dict[str, Any]:
    if value:
        raise ValidationError(
            f"options: unknown option(s) {', '.join(sorted(value))} (this type takes none)"
        )
    return {}


@dataclass(frozen=True, slots=True)
class StreamType:
    name: str
    """The type as clients send it: ``tweet``, ``rss:feed``, ``mastodon:status``."""
    platform: str
    """``x``, ``rss``, ``mastodon``, ``bsky``, ``ws``: carried by every event body."""
    summary: str
    target: Target
    diff: DiffKind
    new_event: EventType
    """The event of one new item (``posts``) or one new follower (``followers``)."""
    payload_key: str
    """The body key of an item's payload: ``tweet``, ``mention``, ``post``, ``entry``."""
    payload: Callable[[Any], dict[str, Any]]
    """Item -> its wire payload (the value under ``payload_key``)."""
    payload_schema: Mapping[str, Any]
    """JSON schema of the payload, for the OpenAPI document and MCP descriptions."""
    events: tuple[EventType, ...] = ()
    """Every change event this type can emit, ``new_event`` included (errors, gaps and the
    lifecycle events are common to all types and not listed)."""
    aliases: tuple[str, ...] = ()
    options: Callable[[Mapping[str, Any]], dict[str, Any]] = no_options
    """Checks and normalises ``options``; raises :class:`ValidationError` naming the field."""
    option_docs: Mapping[str, str] = field(default_factory=dict)
    """Option name -> one line on what it does, for help texts and schemas."""
    paged: bool = True
    """Reads back page by page until what was seen, bounded by ``HERALD_MAX_PAGES``."""
    needs_account: bool = False
    """Needs a stored credential (X session, Mastodon user token) to poll."""
    min_interval: float | None = None
    """A floor on the poll interval for this type, seconds (None: the global minimum)."""

    def __post_init__(self) -> None:
        if not self.events:
            object.__setattr__(self, "events", (self.new_event,))


class StreamTypes:
    """The known stream types by name and alias, in declaration order."""

    def __init__(self, types: Iterable[StreamType] = ()) -> None:
        self._by_name: dict[str, StreamType] = {}
        self._order: list[StreamType] = []
        for t in types:
            self.add(t)

    def add(self, stream_type: StreamType) -> None:
        for name in (stream_type.name, *stream_type.aliases):
            if name in self._by_name:
                raise ValueError(f"stream type {name!r} is declared twice")
            self._by_name[name] = stream_type
        self._order.append(stream_type)

    def __iter__(self) -> Any:
        return iter(self._order)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        """Canonical names, then aliases: everything a client may send as ``type``."""
        canonical = [t.name for t in self._order]
        aliases = [a for t in self._order for a in t.aliases]
        return (*canonical, *aliases)

    def get(self, name: str) -> StreamType:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(t.name for t in self._order) or "none"
            raise ValidationError(f"type: unknown stream type {name!r} (known: {known})") from None

    def canonical(self, name: object) -> str:
        """The canonical name of ``name`` (``x:tweet`` -> ``tweet``), or a ValidationError."""
        if not isinstance(name, str):
            raise ValidationError(f"type: must be a string (got {name!r})")
        return self.get(name).name
