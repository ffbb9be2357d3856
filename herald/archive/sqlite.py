"""The embedded archive: one SQLite file with an FTS5 index, in the data dir by default.

One connection writes (behind a lock, on a worker thread, in WAL mode so readers never
wait for it); every search and export opens its own reading connection. The FTS table
takes its text from the events table (``content=``) so ``snippet()`` can highlight, and
triggers keep the two in step on insert and purge.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from herald.archive.base import (
    MARK_CLOSE,
    MARK_OPEN,
    ArchivedEvent,
    Filters,
    Hit,
    Page,
    Query,
    Term,
    page_cursor,
)
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
CREATE INDEX IF NOT EXISTS events_ts ON events(ts, event_id);
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
_COLUMNS = "e.event_id, e.ts, e.type, e.platform, e.stream_id, e.log_offset, e.text, e.body"
_PURGE_CHUNK = 5000
COMMON = 20_000
"""Terms with at least this many matches are searched by walking the time index."""


def fts_query(terms: Sequence[Term]) -> str:
    """An FTS5 MATCH expression of the terms: each a quoted phrase of plain words (which
    can hold no quote), ``*`` only after a prefix term, all required."""
    parts = []
    for term in terms:
        phrase = '"' + " ".join(term.words).replace('"', '""') + '"'
        parts.append(phrase + ("*" if term.prefix else ""))
    return " AND ".join(parts)


def _where(filters: Filters, args: list[Any]) -> list[str]:
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
        clauses.append("e.ts >= ?")
        args.append(filters.since)
    if filters.until is not None:
        clauses.append("e.ts < ?")
        args.append(filters.until)
    return clauses


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

    def __init__(self, path: Path | str, *, common: int = COMMON) -> None:
        self.path = Path(path)
        self._common = common
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

    def _write(self, sql: str, rows: Sequence[Sequence[Any]] | None = None) -> int:
        with self._lock:
            conn = self._writer
            if conn is None:
                raise StorageError("archive: not open")
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.executemany(sql, rows) if rows is not None else conn.execute(sql)
                changed = cur.rowcount
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return max(changed, 0)

    async def insert_many(self, events: Sequence[ArchivedEvent]) -> int:
        if not events:
            return 0
        rows = [
            (e.event_id, e.ts, e.type, e.platform, e.stream_id, e.offset, e.text, e.body)
            for e in events
        ]
        sql = (
            "INSERT OR IGNORE INTO events"
            "(event_id, ts, type, platform, stream_id, log_offset, text, body)"
            " VALUES (?,?,?,?,?,?,?,?)"
        )
        try:
            return await asyncio.to_thread(self._write, sql, rows)
        except sqlite3.Error as exc:
            raise StorageError(f"archive: insert failed: {exc}") from exc

    def _purge(self, before: int) -> int:
        total = 0
        while True:
            with self._lock:
                conn = self._writer
                if conn is None:
                    raise StorageError("archive: not open")
                cur = conn.execute(
                    "DELETE FROM events WHERE id IN "
                    "(SELECT id FROM events WHERE ts < ? ORDER BY ts LIMIT ?)",
                    (before, _PURGE_CHUNK),
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
    def _read(self, sql: str, args: Sequence[Any]) -> list[Any]:
        conn = self._connect()
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    async def search(self, query: Query) -> Page:
        try:
            rows = await asyncio.to_thread(self._search, query)
        except sqlite3.Error as exc:
            raise StorageError(f"archive: search failed: {exc}") from exc
        hits = [Hit(_event(row), row[8]) for row in rows]
        return Page(hits, page_cursor(hits, query.limit))

    def _search(self, query: Query) -> list[Any]:
        """Two plans, chosen by how common the terms are (a bounded count of matches):
        rare terms read their matches from the index and sort those by time; common ones
        walk the time index newest first and test each event against the terms, which
        finds a page long before it has seen every match. Either way only the page's rows
        are highlighted."""
        conn = self._connect()
        try:
            args: list[Any] = []
            clauses = _where(query.filters, args)
            if query.cursor is not None:
                clauses.append("(e.ts, e.event_id) < (?, ?)")
                args.extend(query.cursor)
            order = " ORDER BY e.ts DESC, e.event_id DESC"
            if not query.terms:
                where = " AND ".join(clauses) or "1"
                sql = f"SELECT {_COLUMNS}, substr(e.text, 1, 200) FROM events e WHERE {where}"
                return conn.execute(sql + order + " LIMIT ?", [*args, query.limit]).fetchall()
            match = fts_query(query.terms)
            probe = conn.execute(
                "SELECT count(*) FROM (SELECT rowid FROM events_fts WHERE events_fts MATCH ?"
                " LIMIT ?)",
                (match, self._common),
            ).fetchone()[0]
            if probe < self._common:
                source = "events_fts f JOIN events e ON e.id = f.rowid"
                test = "f.events_fts MATCH ?"
            else:
                source = "events e"
                test = (
                    "EXISTS (SELECT 1 FROM events_fts f"
                    " WHERE f.events_fts MATCH ? AND f.rowid = e.id)"
                )
            where = " AND ".join([test, *clauses])
            page = f"SELECT e.id FROM {source} WHERE {where}{order} LIMIT ?"
            snippet = f"snippet(events_fts, 0, '{MARK_OPEN}', '{MARK_CLOSE}', '…', 24)"
            sql = (
                f"SELECT {_COLUMNS}, {snippet} FROM events_fts JOIN events e"
                f" ON e.id = events_fts.rowid WHERE events_fts MATCH ? AND e.id IN ({page})"
                f"{order}"
            )
            return conn.execute(sql, [match, match, *args, query.limit]).fetchall()
        finally:
            conn.close()

    async def export(
        self, filters: Filters, *, terms: Sequence[Term] = (), chunk: int = 1000
    ) -> AsyncIterator[ArchivedEvent]:
        conn = await asyncio.to_thread(self._connect)
        try:
            after: tuple[int, str] | None = None
            while True:
                args: list[Any] = []
                source = "events e"
                if terms:
                    source = "events_fts JOIN events e ON e.id = events_fts.rowid"
                    args.append(fts_query(terms))
                clauses = ["events_fts MATCH ?"] if terms else []
                clauses += _where(filters, args)
                if after is not None:
                    clauses.append("(e.ts, e.event_id) > (?, ?)")
                    args.extend(after)
                where = " AND ".join(clauses) or "1"
                sql = f"SELECT {_COLUMNS} FROM {source} WHERE {where}"
                sql += " ORDER BY e.ts, e.event_id LIMIT ?"
                args.append(chunk)
                rows = await asyncio.to_thread(_fetch, conn, sql, args)
                for row in rows:
                    yield _event(row)
                if len(rows) < chunk:
                    return
                after = (int(rows[-1][1]), rows[-1][0])
        finally:
            await asyncio.to_thread(conn.close)

    async def count(self) -> int:
        rows = await asyncio.to_thread(self._read, "SELECT count(*) FROM events", ())
        return int(rows[0][0])

    async def close(self) -> None:
        with self._lock:
            conn, self._writer = self._writer, None
        if conn is not None:
            await asyncio.to_thread(conn.close)
