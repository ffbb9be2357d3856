"""Resume from an offset: replay the global log, then hand over to live delivery.

The seam works without a buffer. The replay reads the log in pages; as soon as it has
read up to (or past) the tail's position it joins the live group, with the last replayed
offset as the sink's *floor*, in the same step and without awaiting in between. Every
event the tail had dispatched before the join was in the log when the replay read it;
every event it dispatches afterwards is newer than the tail's position, and the floor
drops the ones the replay already sent. So nothing is lost and nothing is sent twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from herald.delivery.subscription import Selector
from herald.delivery.tail import LogTail
from herald.store.logentry import Entry, offset_key
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
