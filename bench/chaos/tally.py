"""Counting against the ground truth: lost, duplicated, out of order, and detection times.

Pure functions over plain lists, so that the harness's own arithmetic is tested apart from
the processes it drives (``tests/bench/test_chaos_tally.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from bench.common import percentile


def offset_key(offset: str) -> tuple[int, int]:
    """A log offset (``ms-seq``) as a sortable pair."""
    ms, _, seq = offset.partition("-")
    return int(ms), int(seq or 0)


def iso_seconds(stamp: str) -> float:
    """An ISO 8601 time (``...Z``) as epoch seconds."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclass
class Row:
    """One line of a scenario's table; ``None`` where a figure does not apply."""

    name: str
    expected: int = 0
    received: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    reannounced: int | None = None
    gaps: int | None = None
    detection_p50_ms: float | None = None
    detection_p99_ms: float | None = None
    detection_max_ms: float | None = None
    resumed: str | None = None
    reconnects: int | None = None
    kills: int | None = None
    takeover_p50_ms: float | None = None
    takeover_max_ms: float | None = None
    append_p50_ms: float | None = None
    append_max_ms: float | None = None
    twice: int | None = None
    resend_bound: int | None = None
    unverified: int | None = None
    delivery_p50_ms: float | None = None
    delivery_max_ms: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """0 lost, 0 out of order, 0 re-announced, 0 unverified; 0 duplicated, unless an
        at-least-once promise allows a bound (``resend_bound``: one resend per lease killed)."""
        extra = self.duplicated
        if self.resend_bound is not None:
            extra = max(0, self.duplicated - self.resend_bound)
        return not (self.lost or extra or self.out_of_order or self.reannounced or self.unverified)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def delivery(name: str, expected: Sequence[str], received: Sequence[str]) -> Row:
    """A client's received ids against the expected ids (both in log order).

    Lost = expected ids never received; duplicated = receipts beyond the first of an id;
    out of order = receipts whose expected position is lower than the previous receipt's.
    Ids that were not expected at all count as duplicated (something re-sent from before).
    """
    position = {key: i for i, key in enumerate(expected)}
    counts = Counter(received)
    lost = sum(1 for key in expected if key not in counts)
    duplicated = sum(n - 1 for n in counts.values()) + sum(
        1 for key in counts if key not in position
    )
    late = out_of_order_at(expected, received)
    notes = _sample(expected, counts)
    if late:
        i = late[0]
        ahead = max(position[k] for k in received[:i] if k in position)
        notes.append(f"first out of order: receipt #{i} ({received[i]}) after {expected[ahead]}")
    return Row(
        name,
        len(expected),
        len(received),
        lost,
        duplicated,
        len(late),
        notes=notes,
    )


def out_of_order_at(expected: Sequence[str], received: Sequence[str]) -> list[int]:
    """Indexes of the receipts whose expected position is lower than an earlier receipt's."""
    position = {key: i for i, key in enumerate(expected)}
    late: list[int] = []
    last = -1
    for i, key in enumerate(received):
        where = position.get(key)
        if where is None:
            continue
        if where < last:
            late.append(i)
        last = max(last, where)
    return late


def _sample(expected: Sequence[str], counts: Counter[str]) -> list[str]:
    missing = [key for key in expected if key not in counts][:3]
    notes = [f"first lost: {', '.join(missing)}"] if missing else []
    known = set(expected)
    strangers = [key for key in counts if key not in known]
    if strangers:  # duplicated, but not a repeat: say so, it points elsewhere
        shown = ", ".join(strangers[:3])
        notes.append(f"{len(strangers)} received but never expected: {shown}")
    return notes


def detection(row: Row, delays_s: Iterable[float]) -> Row:
    """Fill a row's detection percentiles (milliseconds) from delays in seconds."""
    ms = [d * 1000 for d in delays_s]
    row.detection_p50_ms = _round(percentile(ms, 50))
    row.detection_p99_ms = _round(percentile(ms, 99))
    row.detection_max_ms = _round(max(ms) if ms else None)
    return row


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def posted_vs_log(
    name: str, posted: dict[str, float], log: Sequence[dict[str, Any]], stream_ids: set[str]
) -> Row:
    """Tweets posted to the stand-in (id -> post time) against the log's tweet events.

    Every posted tweet must be a ``stream:tweet:new`` exactly once; a tweet event for an id
    that was never posted (a seeded or baseline tweet announced) counts as re-announced, as
    does a second ``stream:started`` for one stream (a new baseline).
    """
    tweets = [
        e for e in log if e.get("type") == "stream:tweet:new" and e.get("streamId") in stream_ids
    ]
    ids = [str(e["tweet"]["id"]) for e in tweets]
    counts = Counter(ids)
    lost = [key for key in posted if key not in counts]
    duplicated = sum(n - 1 for n in counts.values())
    event_ids = Counter(str(e.get("eventId")) for e in log)
    duplicated = max(duplicated, sum(n - 1 for n in event_ids.values()))
    started = Counter(e.get("streamId") for e in log if e.get("type") == "stream:started")
    strangers = sum(1 for key in counts if key not in posted)
    row = Row(
        name,
        expected=len(posted),
        received=len(tweets),
        lost=len(lost),
        duplicated=duplicated,
        reannounced=strangers + sum(n - 1 for n in started.values()),
        gaps=sum(1 for e in log if e.get("type") == "stream:gap"),
        notes=[f"first lost: {', '.join(lost[:3])}"] if lost else [],
    )
    delays = [
        iso_seconds(str(e["detectedAt"])) - posted[str(e["tweet"]["id"])]
        for e in tweets
        if str(e["tweet"]["id"]) in posted
    ]
    return detection(row, delays)
