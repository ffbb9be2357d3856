"""The embedded archive: one SQLite file with an FTS5 index, in the data dir by default.

One connection writes (behind a lock, on a worker thread, in WAL mode so readers never
wait for it); every search and export opens its own reading connection. The FTS table
takes its text from the events table (``content=``) so ``snippet()`` can highlight, and
triggers keep the two in step on insert and purge.

An event's rowid is its time: ``detectedAt`` in ms times 4096, plus a slot within that
millisecond. FTS5 walks a term's matches in rowid order natively, so "newest first" stops
after one page however common the term is, and a time range is a rowid range. Events of
the same millisecond keep the order they were archived in.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from herald.archive.base import (
    ArchivedEvent,
    Filters,
    Hit,
    Page,
    Query,
    Term,
    page_cursor,
)
from herald.archive.matching import match
from herald.errors import StorageError

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  ts INTEGER NOT NULL,
  type TEXT NOT NULL,
  platform TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  log_offset TEXT NOT NULL,
  text TEXT NOT NULL,
  body BLOB NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(
  text, content='events', content_rowid='id', tokenize='unicode61 remove_diacritics 0'
);
CREATE TRIGGER IF NOT EXISTS events_ai AFTER INSERT ON events BEGIN
  INSERT INTO events_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS events_ad AFTER DELETE ON events BEGIN
  INSERT INTO events_fts(events_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""
SLOTS = 4096
"""Rowids per millisecond: ``id = ts * SLOTS + slot``."""
_COLUMNS = "e.event_id, e.ts, e.type, e.platform, e.stream_id, e.log_offset, e.text, e.body"
_PURGE_CHUNK = 5000


def fts_query(terms: Sequence[Term]) -> str:
    """An FTS5 MATCH expression of the terms: each a quoted phrase of plain words (which
    can hold no quote), ``*`` only after a prefix term, all required."""
    parts = []
    for term in terms:
        phrase = '"' + " ".join(term.words).replace('"', '""') + '"'
        parts.append(phrase + ("*" if term.prefix else ""))
    return " AND ".join(parts)


def _where(filters: Filters, args: list[Any], rowid: str) -> list[str]:
    """Filter clauses; times become ranges of ``rowid`` (the column the walk follows)."""
    clauses: list[str] = []
    for column, values in (("e.platform", filters.platforms), ("e.type", filters.types)):
        if values:
            clauses.append(f"{column} IN ({','.join('?' * len(values))})")
            args.extend(values)
    if filters.stream_ids is not None:
        if not filters.stream_ids:
            clauses.append("0")
        else:
            clauses.append(f"e.stream_id IN ({','.join('?' * len(filters.stream_ids))})")
            args.extend(filters.stream_ids)
    if filters.since is not None:
        clauses.append(f"{rowid} >= ?")
        args.append(filters.since * SLOTS)
    if filters.until is not None:
        clauses.append(f"{rowid} < ?")
        args.append(filters.until * SLOTS)
    return clauses


def highlight(text: str, terms: Sequence[Term]) -> str:
    marked = match(text, terms) if terms else None
    return marked if marked is not None else text[:200]


def _fetch(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[Any]:
    return conn.execute(sql, args).fetchall()


def _event(row: Sequence[Any]) -> ArchivedEvent:
    return ArchivedEvent(
        event_id=row[0],
        ts=int(row[1]),
        type=row[2],
        platform=row[3],
        stream_id=row[4],
        offset=row[5],
        text=row[6],
        body=bytes(row[7]),
    )


class SqliteArchive:
    name = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._writer: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        return conn

    # --- writing (one connection, one thread at a time) --------------------------------
    def _open(self) -> None:
        with self._lock:
            if self._writer is not None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connect()
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(SCHEMA)
            self._writer = conn

    async def open(self) -> None:
        try:
            await asyncio.to_thread(self._open)
        except sqlite3.Error as exc:
            raise StorageError(f"archive: cannot open {self.path.name}: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        if self._writer is None:
            raise StorageError("archive: not open")
        return self._writer

    def _insert(self, events: Sequence[ArchivedEvent]) -> int:
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                added = 0
                ids = {
                    row[0]
                    for row in _chunked_in(
                        conn,
                        "SELECT event_id FROM events WHERE event_id IN",
                        [e.event_id for e in events],
                    )
                }
                next_slot: dict[int, int] = {}
                for e in events:
                    if e.event_id in ids:
                        continue
                    ids.add(e.event_id)
                    rowid = self._slot(conn, max(e.ts, 0), next_slot)
                    conn.execute(
                        "INSERT INTO events(id, event_id, ts, type, platform, stream_id,"
                        " log_offset, text, body) VALUES (?,?,?,?,?,?,?,?,?)",
                        (rowid, e.event_id, e.ts, e.type, e.platform, e.stream_id, e.offset,
                         e.text, e.body),
                    )  # fmt: skip
                    added += 1
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return added

    @staticmethod
    def _slot(conn: sqlite3.Connection, ts: int, next_slot: dict[int, int]) -> int:
        """The next free rowid of millisecond ``ts`` (past its last slot, the next free
        rowid after it: order is then kept within a few ms)."""
        rowid = next_slot.get(ts)
        if rowid is None:
            base = ts * SLOTS
            row = conn.execute(
                "SELECT max(id) FROM events WHERE id >= ? AND id < ?", (base, base + SLOTS)
            ).fetchone()
            rowid = base if row[0] is None else int(row[0]) + 1
        if rowid >= (ts + 1) * SLOTS:  # a full millisecond: the next free rowid after it
            while conn.execute("SELECT 1 FROM events WHERE id = ?", (rowid,)).fetchone():
                rowid += 1
        next_slot[ts] = rowid + 1
        return rowid

    async def insert_many(self, events: Sequence[ArchivedEvent]) -> int:
        if not events:
            return 0
        try:
            return await asyncio.to_thread(self._insert, events)
        except sqlite3.Error as exc:
            raise StorageError(f"archive: insert failed: {exc}") from exc

    def _purge(self, before: int) -> int:
        total = 0
        while True:
            with self._lock:
                cur = self._conn().execute(
                    "DELETE FROM events WHERE id IN "
                    "(SELECT id FROM events WHERE id < ? ORDER BY id LIMIT ?)",
                    (before * SLOTS, _PURGE_CHUNK),
                )
                total += max(cur.rowcount, 0)
            if cur.rowcount < _PURGE_CHUNK:
                return total

    async def purge(self, before: int) -> int:
        try:
            return await asyncio.to_thread(self._purge, before)
        except sqlite3.Error as exc:
            raise StorageError(f"archive: purge failed: {exc}") from exc

    # --- reading (a connection of its own each time) -----------------------------------
    async def search(self, query: Query) -> Page:
        try:
            rows = await asyncio.to_thread(self._search, query)
        except sqlite3.Error as exc:
            raise StorageError(f"archive: search failed: {exc}") from exc
        hits = [Hit(_event(row), row[8]) for row in rows]
        return Page(hits, page_cursor(hits, query.limit))

    def _search(self, query: Query) -> list[Any]:
        """Newest first along the rowid (time): the full-text index yields a term's matches
        in that order, so a page is found without reading every match. The page's rows are
        highlighted here, as the in-memory twin does (FTS5's ``snippet()`` would re-read
        the terms' whole position lists for each row)."""
        conn = self._connect()
        try:
            args: list[Any] = []
            if query.terms:
                source = "events_fts f JOIN events e ON e.id = f.rowid"
                clauses = ["f.events_fts MATCH ?"]
                args.append(fts_query(query.terms))
                rowid = "f.rowid"
            else:
                source, clauses, rowid = "events e", [], "e.id"
            clauses += _where(query.filters, args, rowid)
            if query.cursor is not None:
                clauses.append(f"{rowid} < ?")
                args.append(self._cursor_id(conn, query.cursor))
            where = " AND ".join(clauses) or "1"
            page = f"SELECT e.id FROM {source} WHERE {where} ORDER BY {rowid} DESC LIMIT ?"
            args.append(query.limit)
            sql = f"SELECT {_COLUMNS} FROM events e WHERE e.id IN ({page}) ORDER BY e.id DESC"
            rows = conn.execute(sql, args).fetchall()
        finally:
            conn.close()
        return [(*row, highlight(row[6], query.terms)) for row in rows]

    @staticmethod
    def _cursor_id(conn: sqlite3.Connection, cursor: tuple[int, str]) -> int:
        """The rowid of the previous page's last event (when purged since: its millisecond)."""
        row = conn.execute("SELECT id FROM events WHERE event_id = ?", (cursor[1],)).fetchone()
        return int(row[0]) if row is not None else cursor[0] * SLOTS

    async def export(
        self, filters: Filters, *, terms: Sequence[Term] = (), chunk: int = 1000
    ) -> AsyncIterator[ArchivedEvent]:
        conn = await asyncio.to_thread(self._connect)
        try:
            after: int | None = None
            while True:
                args: list[Any] = []
                if terms:
                    source = "events_fts f JOIN events e ON e.id = f.rowid"
                    clauses = ["f.events_fts MATCH ?"]
                    args.append(fts_query(terms))
                    rowid = "f.rowid"
                else:
                    source, clauses, rowid = "events e", [], "e.id"
                clauses += _where(filters, args, rowid)
                if after is not None:
                    clauses.append(f"{rowid} > ?")
                    args.append(after)
                where = " AND ".join(clauses) or "1"
                sql = f"SELECT {_COLUMNS}, e.id FROM {source} WHERE {where}"
                sql += f" ORDER BY {rowid} LIMIT ?"
                args.append(chunk)
                rows = await asyncio.to_thread(_fetch, conn, sql, args)
                for row in rows:
                    yield _event(row)
                if len(rows) < chunk:
                    return
                after = int(rows[-1][8])
        finally:
            await asyncio.to_thread(conn.close)

    async def count(self) -> int:
        conn = await asyncio.to_thread(self._connect)
        try:
            rows = await asyncio.to_thread(_fetch, conn, "SELECT count(*) FROM events", ())
        finally:
            await asyncio.to_thread(conn.close)
        return int(rows[0][0])

    async def close(self) -> None:
        with self._lock:
            conn, self._writer = self._writer, None
        if conn is not None:
            await asyncio.to_thread(conn.close)


def _chunked_in(conn: sqlite3.Connection, head: str, values: Sequence[str]) -> list[Any]:
    """``head (?, ?, ...)`` over ``values`` in chunks SQLite's parameter limit allows."""
    found: list[Any] = []
    for i in range(0, len(values), 500):
        part = values[i : i + 500]
        found += conn.execute(f"{head} ({','.join('?' * len(part))})", part).fetchall()
    return found
