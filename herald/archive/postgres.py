"""The external archive: Postgres, with a generated ``tsvector`` column under a GIN index.

Chosen when ``HERALD_ARCHIVE_URL`` is a ``postgresql://`` URL; a ``schema`` query
parameter puts the table in a schema of its own (created when missing). Inserts are one
``INSERT ... SELECT FROM unnest(...) ON CONFLICT (event_id) DO NOTHING`` per batch;
exports read through a server-side cursor, so a large export never sits in memory.
The ``simple`` text-search configuration keeps words as written (no stemming), as
SQLite's FTS5 does, so both backends find the same events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

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

TABLE = "herald_archive"
_COLUMNS = "event_id, ts, type, platform, stream_id, log_offset, text, body"
_HEADLINE = f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=35, MinWords=15"
_PURGE_CHUNK = 5000


def split_url(url: str) -> tuple[str, str]:
    """The connection URL without herald's ``schema`` parameter, and that schema."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), "public") or "public"
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def tsquery(terms: Sequence[Term], args: list[Any]) -> sql.Composable:
    """The terms as a tsquery built from parameters: user text never becomes syntax."""
    parts: list[sql.Composable] = []
    for term in terms:
        if term.prefix:
            parts.append(sql.SQL("to_tsquery('simple', %s)"))
            args.append(term.words[0] + ":*")  # one run of letters and digits: inert
        else:
            parts.append(sql.SQL("phraseto_tsquery('simple', %s)"))
            args.append(" ".join(term.words))
    return sql.SQL("(") + sql.SQL(" && ").join(parts) + sql.SQL(")")


def _where(filters: Filters, args: list[Any]) -> list[sql.Composable]:
    clauses: list[sql.Composable] = []
    for column, values in (("platform", filters.platforms), ("type", filters.types)):
        if values:
            clauses.append(sql.SQL("{} = ANY(%s)").format(sql.Identifier(column)))
            args.append(list(values))
    if filters.stream_ids is not None:
        clauses.append(sql.SQL("stream_id = ANY(%s)"))
        args.append(list(filters.stream_ids))
    if filters.since is not None:
        clauses.append(sql.SQL("ts >= %s"))
        args.append(filters.since)
    if filters.until is not None:
        clauses.append(sql.SQL("ts < %s"))
        args.append(filters.until)
    return clauses


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


def _and(clauses: Sequence[sql.Composable]) -> sql.Composable:
    return sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("TRUE")


class PostgresArchive:
    name = "postgres"

    def __init__(self, url: str, *, max_connections: int = 8) -> None:
        conninfo, self.schema = split_url(url)
        self.table = sql.Identifier(self.schema, TABLE)
        self._pool = AsyncConnectionPool(
            conninfo, min_size=1, max_size=max_connections, open=False, timeout=15
        )

    async def open(self) -> None:
        t = self.table
        statements = [
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                ' event_id text COLLATE "C" PRIMARY KEY, ts bigint NOT NULL,'
                " type text NOT NULL, platform text NOT NULL, stream_id text NOT NULL,"
                " log_offset text NOT NULL, text text NOT NULL, body bytea NOT NULL,"
                " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED)"
            ).format(t),
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING GIN (tsv)").format(
                sql.Identifier(f"{TABLE}_tsv"), t
            ),
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (ts, event_id)").format(
                sql.Identifier(f"{TABLE}_ts"), t
            ),
        ]
        try:
            await self._pool.open(wait=True, timeout=15)
            async with self._pool.connection() as conn:
                # one opener at a time: CREATE ... IF NOT EXISTS races on the catalog
                await conn.execute("SELECT pg_advisory_xact_lock(472019)")
                for statement in statements:
                    await conn.execute(statement)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StorageError(f"archive: cannot open the Postgres archive: {exc}") from exc

    async def insert_many(self, events: Sequence[ArchivedEvent]) -> int:
        if not events:
            return 0
        columns: list[list[Any]] = [[] for _ in range(8)]
        for e in events:
            for i, value in enumerate(
                (e.event_id, e.ts, e.type, e.platform, e.stream_id, e.offset, e.text, e.body)
            ):
                columns[i].append(value)
        statement = sql.SQL(
            "INSERT INTO {} (" + _COLUMNS + ") SELECT * FROM unnest("
            "%s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[],"
            " %s::text[], %s::bytea[]) ON CONFLICT (event_id) DO NOTHING"
        ).format(self.table)
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(statement, columns)
                return max(cur.rowcount, 0)
        except psycopg.Error as exc:
            raise StorageError(f"archive: insert failed: {exc}") from exc

    async def search(self, query: Query) -> Page:
        args: list[Any] = []
        head_args: list[Any] = []
        clauses: list[sql.Composable] = []
        headline: sql.Composable = sql.SQL("left(text, 200)")
        if query.terms:
            q = tsquery(query.terms, args)
            clauses.append(sql.SQL("tsv @@ ") + q)
            head_args = list(args)
            headline = sql.SQL("ts_headline('simple', text, ") + q + sql.SQL(", %s)")
        clauses.extend(_where(query.filters, args))
        if query.cursor is not None:
            clauses.append(sql.SQL("(ts, event_id) < (%s, %s)"))
            args.extend(query.cursor)
        inner = sql.SQL(
            "SELECT " + _COLUMNS + " FROM {} WHERE {} ORDER BY ts DESC, event_id DESC LIMIT %s"
        ).format(self.table, _and(clauses))
        args.append(query.limit)
        outer = sql.SQL(
            "SELECT " + _COLUMNS + ", {} FROM ({}) AS page ORDER BY ts DESC, event_id DESC"
        ).format(headline, inner)
        all_args = [*head_args, _HEADLINE, *args] if query.terms else args
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(outer, all_args)
                rows = await cur.fetchall()
        except psycopg.Error as exc:
            raise StorageError(f"archive: search failed: {exc}") from exc
        hits = [Hit(_event(row), row[8]) for row in rows]
        return Page(hits, page_cursor(hits, query.limit))

    async def export(
        self, filters: Filters, *, terms: Sequence[Term] = (), chunk: int = 1000
    ) -> AsyncIterator[ArchivedEvent]:
        args: list[Any] = []
        clauses: list[sql.Composable] = []
        if terms:
            clauses.append(sql.SQL("tsv @@ ") + tsquery(terms, args))
        clauses.extend(_where(filters, args))
        statement = sql.SQL(
            "SELECT " + _COLUMNS + " FROM {} WHERE {} ORDER BY ts, event_id"
        ).format(self.table, _and(clauses))
        try:
            async with (
                self._pool.connection() as conn,
                conn.transaction(),
                conn.cursor(name="herald_export") as cur,
            ):
                cur.itersize = chunk
                await cur.execute(statement, args)
                async for row in cur:
                    yield _event(row)
        except psycopg.Error as exc:
            raise StorageError(f"archive: export failed: {exc}") from exc

    async def purge(self, before: int) -> int:
        statement = sql.SQL(
            "DELETE FROM {t} WHERE event_id IN (SELECT event_id FROM {t} WHERE ts < %s LIMIT %s)"
        ).format(t=self.table)
        total = 0
        try:
            while True:
                async with self._pool.connection() as conn:
                    cur = await conn.execute(statement, (before, _PURGE_CHUNK))
                    total += max(cur.rowcount, 0)
                if cur.rowcount < _PURGE_CHUNK:
                    return total
        except psycopg.Error as exc:
            raise StorageError(f"archive: purge failed: {exc}") from exc

    async def count(self) -> int:
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self.table))
                row = await cur.fetchone()
        except psycopg.Error as exc:
            raise StorageError(f"archive: count failed: {exc}") from exc
        return int(row[0]) if row else 0

    async def analyze(self) -> None:
        """Refresh the planner's statistics (after a bulk load; autovacuum does it later)."""
        async with self._pool.connection() as conn:
            await conn.execute(sql.SQL("ANALYZE {}").format(self.table))

    async def drop(self) -> None:
        """Remove the archive (and its schema, unless it is ``public``): tests and
        benchmarks clean up so."""
        if self.schema == "public":
            statement = sql.SQL("DROP TABLE IF EXISTS {}").format(self.table)
        else:
            statement = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(self.schema)
            )
        async with self._pool.connection() as conn:
            await conn.execute(statement)

    async def close(self) -> None:
        await self._pool.close()
