"""Resume from an offset: replay the global log, then hand over to live delivery; and
replay subscriptions (:func:`run_range`): a range of the log, paced, then an end marker.

The seam works without a buffer. The replay reads the log in pages; as soon as it has
read up to (or past) the tail's position it joins the live group, with the last replayed
offset as the sink's *floor*, in the same step and without awaiting in between. Every
event the tail had dispatched before the join was in the log when the replay read it;
every event it dispatches afterwards is newer than the tail's position, and the floor
drops the ones the replay already sent. So nothing is lost and nothing is sent twice.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from herald.delivery.subscription import MAX_SEQ, ReplayRange, Selector
from herald.delivery.tail import LogTail
from herald.pipeline.clock import Clock
from herald.store.logentry import Entry, OffsetKey, format_offset, offset_key
from herald.store.logreader import LogReader

PAGE = 500


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a subscription starts. ``offset`` is what the acknowledgement reports."""

    recovered: bool
    offset: str
    #: Replay entries strictly after this offset (``None``: nothing to replay).
    after: str | None
    #: Replay from the oldest entry, inclusive (``since`` was older than the log keeps).
    from_oldest: bool = False


async def plan_resume(log: LogReader, since: str | None, tail: LogTail) -> Resume:
    """Decide whether ``since`` can be recovered without a gap.

    Retention trims the log from the front, so ``since`` is recoverable when it is at or
    after the oldest entry still held, or when nothing was ever removed from the log.
    """
    top = tail.offset
    if since is None:
        return Resume(True, top, None)
    oldest = await log.trimmed_after(since)
    if oldest is None:
        return Resume(True, top, since)
    return Resume(False, oldest, None, from_oldest=True)


async def catch_up(
    log: LogReader,
    resume: Resume,
    selector: Selector,
    tail: LogTail,
    put: Callable[[Entry], Awaitable[None]],
    go_live: Callable[[str], None],
) -> None:
    """Replay what ``resume`` asks for through ``put``, then call ``go_live(last)``.

    ``go_live`` is called synchronously right after the check that the replay has reached
    the tail, with the last offset the replay covered; it must join the hub with that
    floor before anything else can run.
    """
    if resume.after is None and not resume.from_oldest:
        go_live(tail.offset)
        return
    cursor = resume.after
    last_key = offset_key(resume.after) if resume.after is not None else (0, 0)
    last = resume.after or "0-0"
    empty_at = None
    while True:
        page = await log.after(cursor, PAGE)
        for entry in page:
            if selector.matches(entry):
                await put(entry)
            last, last_key = entry.offset, entry.key
        cursor = last
        # Two empty reads with the tail standing still: what lies between us and the
        # tail is gone from the log (deleted), so waiting longer cannot find it.
        stuck = not page and empty_at == tail.position
        empty_at = None if page else tail.position
        if last_key >= tail.position or stuck:
            go_live(last)
            return


# --- replay subscriptions: a range of the log, paced, then an end marker ---------------

#: Sent after the last event of a replay subscription: ``{from, to, count}``.
DONE = "replay:done"
#: Sent first when part of the range was already trimmed: ``{from, oldest}``.
GAP = "replay:gap"


@dataclass(frozen=True, slots=True)
class RangePlan:
    """A resolved replay subscription: read strictly after ``after`` up to ``end``."""

    after: str | None
    end: OffsetKey
    start: str
    to: str
    speed: float
    #: The oldest offset held when part of the range was trimmed away (else ``None``).
    gap: str | None = None


async def plan_range(log: LogReader, rng: ReplayRange) -> RangePlan:
    """Turn ``replay: {from, to, speed}`` into offsets; a time goes through ``offset_at``."""
    if rng.start.offset is not None:
        after = _before(offset_key(rng.start.offset))
    else:
        after = await log.offset_at(rng.start.ms or 0)
    if rng.end is not None:
        end = rng.end.high()
    else:
        newest = await log.newest_offset()  # "to" left out: up to what the log holds now
        end = offset_key(newest)
    gap = await log.trimmed_after(after or "0-0")
    start = format_offset(rng.start.low())
    return RangePlan(after, end, start, format_offset(end), rng.speed, gap)


async def run_range(
    log: LogReader,
    plan: RangePlan,
    selector: Selector,
    put: Callable[[Entry], Awaitable[None]],
    notice: Callable[[str, dict[str, Any]], Awaitable[None]],
    clock: Clock,
) -> None:
    """Send the matching entries of ``plan`` through ``put``, paced by the gaps between
    their ids at ``plan.speed``, then the :data:`DONE` marker with how many were sent.

    Pacing waits on ``clock`` (a virtual one in tests); ``put`` waits for room in the
    client's queue, as the resume replay does, so a slow reader slows the replay down.
    """
    if plan.gap is not None:
        await notice(GAP, {"from": plan.start, "oldest": plan.gap})
    cursor = plan.after
    count = 0
    first: tuple[int, float] | None = None
    paced = math.isfinite(plan.speed)
    while True:
        page = await log.after(cursor, PAGE)
        for entry in page:
            if entry.key > plan.end:
                page = []
                break
            if not selector.matches(entry):
                continue
            if paced:
                if first is None:
                    first = (entry.key[0], clock.now())
                else:
                    due = first[1] + (entry.key[0] - first[0]) / 1000 / plan.speed
                    await clock.sleep_until(due)
            await put(entry)
            count += 1
        if len(page) < PAGE:
            break
        cursor = page[-1].offset
    await notice(DONE, {"from": plan.start, "to": plan.to, "count": count})


def _before(key: OffsetKey) -> str | None:
    """The offset just before ``key`` (``None``: before the first possible offset)."""
    ms, seq = key
    if seq > 0:
        return format_offset((ms, seq - 1))
    if ms > 0:
        return format_offset((ms - 1, MAX_SEQ))
    return None
