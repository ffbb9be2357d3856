"""Shared pieces of the archive tests: the three backends, and events shaped like the log's."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg

from herald.archive.base import Archive, ArchivedEvent
from herald.archive.memory import MemoryArchive
from herald.archive.postgres import PostgresArchive
from herald.archive.records import record_of
from herald.archive.sqlite import SqliteArchive
from tests.conftest import need

POSTGRES_URL = os.environ.get(
    "HERALD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("memory", "sqlite", "postgres")
T0 = 1_780_000_000_000  # epoch ms


def postgres_reachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc)


def postgres_schema_url() -> str:
    """The test Postgres with a schema of its own (dropped by the caller)."""
    problem = postgres_reachable()
    need(problem is None, f"Postgres not reachable at {POSTGRES_URL}: {problem}")
    return f"{POSTGRES_URL}?schema=herald_test_{secrets.token_hex(4)}"


@asynccontextmanager
async def open_backend(kind: str, tmp_path: Path) -> AsyncIterator[Archive]:
    archive: Archive
    if kind == "memory":
        archive = MemoryArchive()
    elif kind == "sqlite":
        archive = SqliteArchive(tmp_path / "archive.db")
    else:
        archive = PostgresArchive(postgres_schema_url())
    await archive.open()
    try:
        yield archive
    finally:
        if isinstance(archive, PostgresArchive):
            await archive.drop()
        await archive.close()


def iso(ms: int) -> str:
    from datetime import UTC, datetime

    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def body(
    n: int,
    text: str,
    *,
    key: str = "tweet",
    etype: str = "stream:tweet:new",
    platform: str = "x",
    stream: str = "s1",
    ts: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An event body as the log holds it (a synthetic one, in the catalog's shapes)."""
    when = T0 + n * 1000 if ts is None else ts
    return {
        "offset": f"{when}-0",
        "type": etype,
        "eventId": f"item:{n}@{stream}",
        "streamId": stream,
        "username": "watched",
        "platform": platform,
        "target": "watched",
        "detectedAt": iso(when),
        key: {"id": str(n), "text": text, "author": f"author{n}", "url": f"https://x.test/{n}"},
        "priority": 1,
        **extra,
    }


def event(n: int, text: str, **kwargs: Any) -> ArchivedEvent:
    b = body(n, text, **kwargs)
    return record_of(b, b["offset"])
