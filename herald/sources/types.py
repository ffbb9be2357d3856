"""Stream types as data: one :class:`StreamType` per type, and the catalog of all of them.

A stream type says which platform it belongs to, how its target is checked, which options
it takes, how the engine diffs what its source returns, which events it emits and what
their payload looks like. The engine, the API schemas, the CLI, MCP and the dashboard read
these entries; none of them names a type. Adding a platform is one module that exports its
entries (``STREAM_TYPES``) and a factory for its source (``build_source``), listed once in
:mod:`herald.sources.catalog`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from herald.errors import ValidationError
from herald.events import EventType

DiffKind = Literal["posts", "followers"]
"""``posts``: new items by id against the seen set (tweets, mentions, posts, entries).
``followers``: a follower snapshot with exact counts and honest ``lost``."""

Mode = Literal["poll", "push"]
"""``poll``: the poll worker fetches on a schedule and diffs (:class:`~herald.sources.base.Source`).
``push``: a long-lived upstream connection held by the push runtime delivers changes as they
happen (:class:`~herald.push.base.PushSource`); ``diff`` does not apply."""


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
    label: str = "target"
    """What a form calls the field: ``username``, ``feed URL``, ``search query``."""


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
    options_schema: Mapping[str, Any] | None = None
    """JSON schema of the ``options`` object :attr:`options` accepts, for the OpenAPI
    document (None: an object of the documented options, any values)."""
    paged: bool = True
    """Reads back page by page until what was seen, bounded by ``HERALD_MAX_PAGES``."""
    needs_account: bool = False
    """Needs a stored credential (X session, Mastodon user token) to poll."""
    min_interval: float | None = None
    """A floor on the poll interval for this type, seconds (None: the global minimum)."""
    mode: Mode = "poll"
    """How its changes arrive: polled on a schedule, or pushed over a held connection."""
    sentiment_field: str | None = None
    """The item field scored for sentiment when an item is detected (``text``, a feed
    entry's ``title``); None: its items are not post-like and carry no ``sentiment``.
    Declared per payload key: every type with the same ``payload_key`` gets it."""

    def __post_init__(self) -> None:
        if not self.events:
            object.__setattr__(self, "events", (self.new_event,))

    @property
    def names(self) -> tuple[str, ...]:
        """The canonical name, then the aliases: every ``type`` a client may send for it."""
        return (self.name, *self.aliases)

    def options_json_schema(self) -> dict[str, Any]:
        """The ``options`` object's JSON schema, each option described by its doc line."""
        if self.options_schema is not None:
            schema = dict(self.options_schema)
            properties = dict(schema.get("properties", {}))
            for name, doc in self.option_docs.items():
                if name in properties and "description" not in properties[name]:
                    properties[name] = {**properties[name], "description": doc}
            if properties:
                schema["properties"] = properties
            return schema
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: {"description": doc} for name, doc in self.option_docs.items()},
        }

    def describe(self) -> dict[str, Any]:
        """The entry as JSON, for ``GET /api/stream-types``, the CLI and the dashboard."""
        target: dict[str, Any] = {
            "label": self.target.label,
            "description": self.target.description,
            "example": self.target.example,
        }
        if self.target.pattern is not None:
            target["pattern"] = self.target.pattern
        return {
            "type": self.name,
            "aliases": list(self.aliases),
            "platform": self.platform,
            "summary": self.summary,
            "target": target,
            "events": [e.value for e in self.events],
            "payloadKey": self.payload_key,
            "payloadSchema": self.payload_schema,
            "options": dict(self.option_docs),
            "needsAccount": self.needs_account,
            "minInterval": self.min_interval,
            "mode": self.mode,
            "sentimentField": self.sentiment_field,
        }


class StreamTypes:
    """The known stream types by name and alias, in declaration order."""

    def __init__(self, types: Iterable[StreamType] = ()) -> None:
        self._by_name: dict[str, StreamType] = {}
        self._order: list[StreamType] = []
        self._payload_keys: tuple[str, ...] = ()
        self._sentiment_fields: dict[str, str] = {}
        for t in types:
            self.add(t)

    def add(self, stream_type: StreamType) -> None:
        field_name = stream_type.sentiment_field
        known = self._sentiment_fields.get(stream_type.payload_key)
        if field_name is not None and known not in (None, field_name):
            raise ValueError(
                f"stream type {stream_type.name!r} scores {stream_type.payload_key!r} items "
                f"by {field_name!r}, another type by {known!r}"
            )
        for name in (stream_type.name, *stream_type.aliases):
            if name in self._by_name:
                raise ValueError(f"stream type {name!r} is declared twice")
            self._by_name[name] = stream_type
        self._order.append(stream_type)
        if stream_type.payload_key not in self._payload_keys:
            self._payload_keys = (*self._payload_keys, stream_type.payload_key)
        if field_name is not None:
            self._sentiment_fields[stream_type.payload_key] = field_name

    def __iter__(self) -> Iterator[StreamType]:
        return iter(self._order)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        """Canonical names, then aliases: everything a client may send as ``type``."""
        canonical = [t.name for t in self._order]
        aliases = [a for t in self._order for a in t.aliases]
        return (*canonical, *aliases)

    def __len__(self) -> int:
        return len(self._order)

    @property
    def payload_keys(self) -> tuple[str, ...]:
        """Every body key that holds an item's payload (``tweet``, ``post``, ``entry``...)."""
        return self._payload_keys

    @property
    def sentiment_fields(self) -> dict[str, str]:
        """Payload key -> the item field scored for sentiment (``tweet`` -> ``text``, ``entry``
        -> ``title``): every post-like item, push sources' included, by its payload key."""
        return self._sentiment_fields

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.platform for t in self._order))

    def find(self, name: str) -> StreamType | None:
        """The entry for ``name`` (or an alias), or None when the catalog does not know it."""
        return self._by_name.get(name)

    def describe(self) -> list[dict[str, Any]]:
        return [t.describe() for t in self._order]

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
