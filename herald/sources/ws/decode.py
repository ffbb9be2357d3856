"""Frames to changes for the streams of one connection, with the connection's cursor.

The cursor is the last item number seen per sequence and key (``{"seq": {"aggTrade|BTCUSDT":
123}}``): exchanges cannot replay, so it is not a place to resume from but the proof of what
was seen. A number at or below it is a frame already reported (a replay: dropped); a jump is
a ``sequence_gap`` of exactly the numbers skipped. Streams whose rules number nothing (a
generic map, tickers) get one ``reconnect`` gap after every reconnect instead: herald cannot
know what went by while it was away, and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from herald.push.base import Decoded, Frame, FrameError, PushChange, PushStream
from herald.sources.base import Gap, Notice
from herald.sources.ws.items import EVENTS, BadFrame, build
from herald.sources.ws.rules import Rule
from herald.sources.ws.spec import FeedSpec, feed_spec


@dataclass(slots=True)
class ConnectionState:
    """What the source remembers of one connection between batches."""

    seq: dict[str, int] = field(default_factory=dict)
    cursor: str | None = None
    """The cursor this state was last saved as: a different one passed in (another worker
    owned the connection meanwhile) reloads the state from it."""
    reconnected: bool = False
    fresh: bool = True
    last_match: dict[str, float] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)
    noticed: set[str] = field(default_factory=set)

    def load(self, cursor: str | None) -> None:
        self.seq = {}
        if cursor:
            try:
                saved = orjson.loads(cursor)
                self.seq = {str(k): int(v) for k, v in saved.get("seq", {}).items()}
            except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
                self.seq = {}
        self.cursor = cursor

    def dump(self) -> str:
        self.cursor = orjson.dumps({"seq": self.seq}, option=orjson.OPT_SORT_KEYS).decode()
        return self.cursor


@dataclass(slots=True)
class _Group:
    """Streams that share one rule set: each frame is matched once for all of them."""

    rules: tuple[Rule, ...]
    spec: FeedSpec
    members: list[tuple[PushStream, FeedSpec]]


class _Batch:
    def __init__(self) -> None:
        self.out = Decoded()
        self.errors: dict[tuple[str, str | None], int] = {}
        self.changed = False

    def error(self, kind: str, message: str, stream_id: str | None = None) -> None:
        """One frame error of a kind per batch (and stream); later ones are counted in it."""
        key = (kind, stream_id)
        if key not in self.errors:
            self.errors[key] = len(self.out.errors)
            self.out.errors.append(FrameError(kind, message, stream_id))
            return
        index = self.errors[key]
        self.out.errors[index] = FrameError(kind, f"{message} (and more in this batch)", stream_id)

    def upstream(self, seconds: float | None) -> None:
        if seconds is not None and (self.out.upstream_time or 0) < seconds:
            self.out.upstream_time = seconds


def _groups(streams: Sequence[PushStream]) -> list[_Group]:
    groups: dict[int, _Group] = {}
    for stream in streams:
        spec = feed_spec(stream.target, stream.options)
        group = groups.get(id(spec.rules))
        if group is None:
            group = groups[id(spec.rules)] = _Group(spec.rules, spec, [])
        group.members.append((stream, spec))
    return list(groups.values())


def decode_batch(
    state: ConnectionState, frames: Sequence[Frame], streams: Sequence[PushStream]
) -> Decoded:
    batch = _Batch()
    groups = _groups(streams)
    if state.reconnected:
        state.reconnected = False
        for group in groups:
            if not group.spec.proves_continuity:
                for stream, _ in group.members:
                    batch.out.gaps.append((stream.id, Gap("reconnect")))
    cap = max((spec.max_frame_bytes for g in groups for _, spec in g.members), default=0)
    for frame in frames:
        _frame(state, batch, groups, frame, cap)
    if batch.changed or state.fresh:
        state.fresh = False
        batch.out.cursor = state.dump()
    return batch.out


def _frame(
    state: ConnectionState, batch: _Batch, groups: list[_Group], frame: Frame, cap: int
) -> None:
    raw = frame.data
    if len(raw) > cap:
        batch.error("too_large", f"a frame of {len(raw)} bytes is over the {cap}-byte cap")
        return
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        shown = raw[:60] if isinstance(raw, str) else repr(raw[:60])
        batch.error("not_json", f"a frame that is not JSON: {shown!r}")
        return
    outcomes: dict[str, tuple[bool, Gap | None]] = {}
    for group in groups:
        spec = group.spec
        if spec.errors is not None and all(c.holds(parsed) for c in spec.errors[0]):
            text = spec.errors[1].get(parsed)
            batch.error("upstream_error", f"the upstream answered an error: {text}")
            continue
        rule = next((r for r in group.rules if r.matches(parsed)), None)
        if rule is None:
            _unmatched(state, batch, group, frame.received)
            continue
        for stream, _ in group.members:
            state.last_match[stream.id] = frame.received
            state.unmatched.pop(stream.id, None)
            state.noticed.discard(stream.id)
        try:
            _matched(state, batch, group, rule, parsed, frame, outcomes)
        except BadFrame as exc:
            batch.error("bad_frame", str(exc))


def _sequence(
    state: ConnectionState, batch: _Batch, rule: Rule, parsed: Any
) -> tuple[bool, Gap | None]:
    """Whether a numbered frame is new (and the gap before it), advancing the cursor."""
    assert rule.sequence is not None
    seq = rule.sequence
    key = seq.key.get(parsed)
    number = seq.number.get(parsed)
    if isinstance(number, bool) or not isinstance(number, int) or not isinstance(key, str):
        raise BadFrame(f"a {seq.name} frame without a whole-number sequence and its key")
    name = f"{seq.name}|{key}"
    last = state.seq.get(name)
    if last is not None and number <= last:
        return False, None  # seen already: a replay of what the cursor covers
    state.seq[name] = number
    batch.changed = True
    if last is None and rule.history:
        return False, None  # from before the subscription: it only says where numbers are
    if last is not None and number > last + 1:
        return True, Gap("sequence_gap", number - last - 1)
    return True, None


def _matched(
    state: ConnectionState,
    batch: _Batch,
    group: _Group,
    rule: Rule,
    parsed: Any,
    frame: Frame,
    outcomes: dict[str, tuple[bool, Gap | None]],
) -> None:
    if rule.sequence is not None:
        # every group of the frame sees the same outcome: the cursor moves once per frame
        name = rule.sequence.name
        if name not in outcomes:
            outcomes[name] = _sequence(state, batch, rule, parsed)
        new, gap = outcomes[name]
        if not new:
            return
        if gap is not None:
            batch.out.gaps.extend((stream.id, gap) for stream, _ in group.members)
    object_id, payload, upstream = build(
        rule, parsed, frame.data, group.spec.exchange, frame.received
    )
    batch.upstream(upstream)
    event = EVENTS[rule.event]
    batch.out.changes.extend(
        PushChange(stream.id, event, object_id, payload)
        for stream, _ in group.members
        if frame.received >= stream.created_at
    )


def _unmatched(state: ConnectionState, batch: _Batch, group: _Group, received: float) -> None:
    """A map that matches nothing for ``noMatchNotice`` seconds: one notice, until it
    matches again."""
    for stream, spec in group.members:
        since = state.last_match.setdefault(stream.id, received)
        state.unmatched[stream.id] = state.unmatched.get(stream.id, 0) + 1
        if received - since >= spec.no_match_notice and stream.id not in state.noticed:
            state.noticed.add(stream.id)
            seen = state.unmatched[stream.id]
            batch.out.notices.append(
                (
                    stream.id,
                    Notice(
                        "map_unmatched",
                        f"no frame matched the stream's map in {received - since:.0f} s "
                        f"({seen} frames seen); "
                        + ("check options.map" if spec.exchange is None else "check symbols"),
                    ),
                )
            )
