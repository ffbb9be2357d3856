"""Local fan-out: clients grouped by what they asked for, one match per group per event.

A group is a (transport, selector) pair. An event is matched once against each group that
could want it (groups indexed by stream id, plus the groups that take every stream) and,
if it matches, offered to every member. Clients whose selector does not match cost
nothing, and clients sharing a filter share its evaluation.

A batch read from the log is matched group by group first; each member then gets the
group's whole list in one ``offer_many`` call, so a transport can build the wire bytes for
the list once per group and write them to each socket with one call.

Members are :class:`Sink` objects. ``offer_many`` must never await: it sends or queues the
events (or notices that its client fell behind and schedules the cut-off itself).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

from herald import metrics
from herald.delivery.entry import Entry, OffsetKey
from herald.delivery.subscription import Selector

log = logging.getLogger(__name__)


class ClientGone(Exception):
    """The recipient disconnected while something was being sent to it."""


class Sink(Protocol):
    """One recipient: a Socket.IO client, a WebSocket subscription or an SSE response."""

    transport: str
    #: Live events at or below this offset were already sent by the replay.
    floor: OffsetKey | None

    def offer_many(self, entries: Sequence[Entry], shared: dict[Any, Any]) -> None:
        """Send ``entries`` in order. ``shared`` is one dict per list, for the members of a
        group to cache what they build from it (never reused for another list)."""


class Group:
    __slots__ = ("members", "selector", "transport")

    def __init__(self, transport: str, selector: Selector) -> None:
        self.transport = transport
        self.selector = selector
        self.members: dict[Sink, None] = {}


def _offer(sink: Sink, entries: list[Entry], shared: dict[Any, Any]) -> None:
    floor = sink.floor
    if floor is not None:
        newer = [e for e in entries if e.key > floor]
        if not newer:
            return
        sink.floor = None
        if len(newer) != len(entries):
            sink.offer_many(newer, {})
            return
    sink.offer_many(entries, shared)


class Hub:
    def __init__(self) -> None:
        self._groups: dict[tuple[str, str], Group] = {}
        # Copy-on-write tuples: dispatch iterates them while a cut-off may remove a group.
        self._by_stream: dict[str, tuple[Group, ...]] = {}
        self._any_stream: tuple[Group, ...] = ()
        self._membership: dict[Sink, Group] = {}

    def join(self, sink: Sink, selector: Selector, floor: OffsetKey | None = None) -> None:
        """Start live delivery to ``sink``; a sink is in at most one group at a time."""
        self.leave(sink)
        gkey = (sink.transport, selector.key)
        group = self._groups.get(gkey)
        if group is None:
            group = self._groups[gkey] = Group(sink.transport, selector)
            if selector.stream_ids is None:
                self._any_stream = (*self._any_stream, group)
            else:
                for sid in selector.stream_ids:
                    self._by_stream[sid] = (*self._by_stream.get(sid, ()), group)
        sink.floor = floor
        group.members[sink] = None
        self._membership[sink] = group

    def leave(self, sink: Sink) -> None:
        group = self._membership.pop(sink, None)
        if group is None:
            return
        group.members.pop(sink, None)
        if group.members:
            return
        del self._groups[(group.transport, group.selector.key)]
        if group.selector.stream_ids is None:
            self._any_stream = tuple(g for g in self._any_stream if g is not group)
        else:
            for sid in group.selector.stream_ids:
                rest = tuple(g for g in self._by_stream.get(sid, ()) if g is not group)
                if rest:
                    self._by_stream[sid] = rest
                else:
                    self._by_stream.pop(sid, None)

    def is_member(self, sink: Sink) -> bool:
        return sink in self._membership

    @property
    def group_count(self) -> int:
        return len(self._groups)

    def dispatch(self, batch: list[Entry]) -> None:
        """Offer a batch, in order, to every member of every group it matches."""
        matched: dict[Group, list[Entry]] = {}
        for entry in batch:
            groups = self._by_stream.get(entry.stream_id)
            candidates = [*self._any_stream, *groups] if groups else self._any_stream
            for group in candidates:
                if group.members and self._matches(group, entry):
                    found = matched.get(group)
                    if found is None:
                        matched[group] = [entry]
                    else:
                        found.append(entry)
        delivered: Counter[str] = Counter()
        for group, entries in matched.items():
            delivered[group.transport] += len(group.members) * len(entries)
            shared: dict[Any, Any] = {}
            for sink in list(group.members):
                _offer(sink, entries, shared)
        for transport, n in delivered.items():
            metrics.DELIVERED.labels(transport).inc(n)

    @staticmethod
    def _matches(group: Group, entry: Entry) -> bool:
        try:
            return group.selector.matches(entry)
        except Exception:  # a malformed body must not stop delivery to other groups
            log.exception("filter failed on event %s", entry.offset)
            return False
