"""The archive: every event kept past the log's cap, searchable and exportable.

Backends behind one :class:`Archive` Protocol (in memory, SQLite FTS5, Postgres), chosen by
``HERALD_ARCHIVE_URL`` (:func:`build_archive`), and filled by :class:`ArchiveWriter`, a
consumer group on the global log.
"""

from herald.archive.base import (
    Archive,
    ArchivedEvent,
    Filters,
    Hit,
    Page,
    Query,
    Term,
    parse_terms,
)
from herald.archive.factory import archive_url, build_archive
from herald.archive.memory import MemoryArchive
from herald.archive.records import record_of, searchable_text

__all__ = [
    "Archive",
    "ArchivedEvent",
    "Filters",
    "Hit",
    "MemoryArchive",
    "Page",
    "Query",
    "Term",
    "archive_url",
    "build_archive",
    "parse_terms",
    "record_of",
    "searchable_text",
]
