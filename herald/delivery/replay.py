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

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from herald.delivery.entry import Entry, entries, offset_key
from herald.delivery.subscription import Selector
from herald.delivery.tail import LogTail

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


async def plan_resume(redis: Redis, key: str, since: str | None, tail: LogTail) -> Resume:
    """Decide whether ``since`` can be recovered without a gap.

    Retention trims the log from the front, so ``since`` is recoverable when it is at or
    after the oldest entry still held, or when nothing was ever removed from the log.
    """
    top = tail.offset
    if since is None:
        return Resume(True, top, None)
    try:
        info = await redis.xinfo_stream(key)
    except ResponseError:  # no log yet: nothing was ever trimmed
        return Resume(True, top, since)
    first = info.get("first-entry")
    if not first:
        return Resume(True, top, since)
    oldest = first[0].decode() if isinstance(first[0], bytes) else str(first[0])
    never_trimmed = int(info.get("entries-added", -1)) == int(info.get("length", 0))
    if never_trimmed or offset_key(since) >= offset_key(oldest):
        return Resume(True, top, since)
    return Resume(False, oldest, None, from_oldest=True)


async def catch_up(
    redis: Redis,
    key: str,
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
    cursor = f"({resume.after}" if resume.after is not None else "-"
    last_key = offset_key(resume.after) if resume.after is not None else (0, 0)
    last = resume.after or "0-0"
    empty_at = None
    while True:
        page = entries(await redis.xrange(key, cursor, "+", count=PAGE))
        for entry in page:
            if selector.matches(entry):
                await put(entry)
            last, last_key = entry.offset, entry.key
        cursor = f"({last}"
        # Two empty reads with the tail standing still: what lies between us and the
        # tail is gone from the log (deleted), so waiting longer cannot find it.
        stuck = not page and empty_at == tail.position
        empty_at = None if page else tail.position
        if last_key >= tail.position or stuck:
            go_live(last)
            return
