"""Every read of the global event log, in one place.

The tail, the replay, SSE, Socket.IO recovery, ``GET /api/events/log`` and MCP all read the
log through a :class:`LogReader`; nothing else in herald issues ``XREAD``, ``XRANGE`` or
``XREVRANGE`` on it. Every read returns :class:`~herald.store.logentry.Entry` objects: the
body stored once by the append script, with its offset spliced in as bytes, so an event is
never re-serialised on its way out.

Offsets are Redis stream ids (``ms-seq``). Retention trims the log from the front, so a
reader that asks for "after X" must learn whether what followed X is still there:
:meth:`LogReader.trimmed_after` answers that, and every transport reports the answer the
same way (``recovered: false`` and the oldest offset held).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from herald.store.codec import text
from herald.store.logentry import Entry, entries, offset_key

#: The largest sequence number of a stream id: ``{ms}-{MAX_SEQ}`` is the last id of ``ms``.
MAX_SEQ = 2**64 - 1


class LogReader:
    """Reads the global log at ``key``. Stateless: share one per process."""

    def __init__(self, redis: Redis, key: str) -> None:
        self._redis = redis
        self.key = key

    async def after(self, offset: str | None, count: int) -> list[Entry]:
        """Up to ``count`` entries strictly after ``offset``, oldest first.

        ``None`` reads from the oldest entry the log holds (inclusive).
        """
        start = f"({_full(offset)}" if offset is not None else "-"
        return entries(await self._redis.xrange(self.key, min=start, count=count))

    async def between(self, start: str, end: str, count: int) -> list[Entry]:
        """Up to ``count`` entries from ``start`` to ``end``, oldest first, in ``XRANGE``
        syntax (``(`` before an offset excludes it; ``-`` and ``+`` leave an end open)."""
        return entries(await self._redis.xrange(self.key, min=start, max=end, count=count))

    async def wait(self, offset: str, count: int, block_ms: int) -> list[Entry]:
        """Entries strictly after ``offset``, blocking up to ``block_ms`` until one exists.

        Holds a connection while it blocks: meant for the one tail per node, not per request.
        Returns ``[]`` when the time ran out.
        """
        reply: Any = await self._redis.xread({self.key: _full(offset)}, count=count, block=block_ms)
        if not reply:
            return []
        # RESP2: [[key, items]]; RESP3: {key: [items]}.
        items: Any = reply[0][1] if isinstance(reply, list) else next(iter(reply.values()))[0]
        return entries(items)

    async def newest(self, count: int) -> list[Entry]:
        """The newest ``count`` entries the log holds, oldest first."""
        found = entries(await self._redis.xrevrange(self.key, "+", "-", count=count))
        found.reverse()
        return found

    async def newest_offset(self) -> str:
        """The offset of the newest entry held (``0-0`` when the log is empty)."""
        found = await self.newest(1)
        return found[0].offset if found else "0-0"

    async def oldest_offset(self) -> str | None:
        """The offset of the oldest entry held (``None`` when the log is empty)."""
        found = entries(await self._redis.xrange(self.key, "-", "+", count=1))
        return found[0].offset if found else None

    async def bounds(self) -> tuple[str | None, str | None]:
        """The oldest and newest offsets the log holds (``None`` when it is empty)."""
        newest = await self.newest(1)
        return await self.oldest_offset(), newest[0].offset if newest else None

    async def end(self) -> str:
        """The last offset ever generated, even if since trimmed (``0-0``: no log yet).

        Reading after it returns exactly what is appended from now on.
        """
        info = await self._info()
        if info is None:
            return "0-0"
        return text(info.get("last-generated-id") or b"0-0")

    async def offset_at(self, when_ms: int) -> str:
        """The offset to read after for every entry appended at or after ``when_ms``.

        That is the newest entry held from before ``when_ms``; when the log holds none,
        the last possible offset before ``when_ms``, so that :meth:`trimmed_after` can tell
        whether entries of that time were already trimmed.
        """
        if when_ms <= 0:
            return "0-0"
        before = await self._redis.xrevrange(self.key, f"({when_ms}-0", "-", count=1)
        found = entries(before)
        return found[0].offset if found else f"{when_ms - 1}-{MAX_SEQ}"

    async def trimmed_after(self, offset: str) -> str | None:
        """The oldest offset still held, when entries after ``offset`` were trimmed away.

        ``None`` when reading after ``offset`` is continuous: nothing was ever removed from
        the log, or ``offset`` is at or after the oldest entry held.
        """
        return _gap(await self._info(), offset)

    async def after_checked(self, offset: str, count: int) -> tuple[list[Entry], str | None]:
        """:meth:`after` and :meth:`trimmed_after` as one atomic step (``MULTI``).

        A reader that must say when it skipped something (a webhook endpoint's consumer)
        cannot ask the two questions apart: a trim between them would either hide a gap or
        report one that did not happen. Returns the entries and the oldest offset held when
        entries after ``offset`` were trimmed away (``None``: the read is continuous).
        """
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xinfo_stream(self.key)
            pipe.xrange(self.key, min=f"({_full(offset)}", count=count)
            info, items = await pipe.execute(raise_on_error=False)
        if isinstance(items, Exception):
            raise items
        if isinstance(info, ResponseError):  # no log yet: nothing was ever trimmed
            info = None
        elif isinstance(info, Exception):
            raise info
        return entries(items), _gap(info, offset)

    async def _info(self) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = await self._redis.xinfo_stream(self.key)
        except ResponseError:
            return None
        return info


def _gap(info: dict[str, Any] | None, offset: str) -> str | None:
    """The oldest offset held when ``XINFO STREAM``'s ``info`` shows entries after
    ``offset`` were trimmed; ``None`` when nothing after it was ever removed."""
    if info is None:  # no log yet: nothing was ever trimmed
        return None
    if int(info.get("entries-added", -1)) == int(info.get("length", 0)):
        return None
    first = info.get("first-entry")
    oldest = text(first[0]) if first else text(info.get("last-generated-id") or b"0-0")
    if offset_key(_full(offset)) >= offset_key(oldest):
        return None
    return oldest


def _full(offset: str) -> str:
    """``ms`` alone means ``ms-0``, as everywhere offsets are accepted."""
    return offset if "-" in offset else f"{offset}-0"
