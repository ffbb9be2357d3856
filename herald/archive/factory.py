"""Which archive a process uses, from ``HERALD_ARCHIVE_URL``.

- unset: SQLite at ``{HERALD_DATA_DIR}/archive.db`` when herald runs its embedded store,
  off with an external Redis (several processes on several machines need one shared
  archive: name it, e.g. a Postgres URL);
- ``sqlite:///path/to/archive.db`` (``sqlite:///relative`` under the working directory,
  ``sqlite:////abs`` absolute);
- ``postgresql://user@host:5432/db`` (optionally ``?schema=name``);
- ``memory`` (tests), ``off``.
"""

from __future__ import annotations

from pathlib import Path

from herald.archive.base import Archive
from herald.config import Settings
from herald.errors import ConfigError

SQLITE_FILE = "archive.db"


def archive_url(settings: Settings) -> str:
    """The archive URL in effect (``off`` when there is none)."""
    url = (settings.archive_url or "").strip()
    if not url:
        if not settings.uses_embedded_redis:
            return "off"
        return f"sqlite:///{settings.data_dir / SQLITE_FILE}"
    return url


def display_url(url: str) -> str:
    """The URL without its password, for logs and status."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


def build_archive(settings: Settings) -> Archive | None:
    """The archive the settings name (not opened yet); None when it is off."""
    url = archive_url(settings)
    lowered = url.lower()
    if lowered in ("off", "false", "none", "0"):
        return None
    if lowered == "memory":
        from herald.archive.memory import MemoryArchive

        return MemoryArchive()
    if lowered.startswith("sqlite://"):
        from herald.archive.sqlite import SqliteArchive

        path = url[len("sqlite://") :]
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ConfigError("invalid HERALD_ARCHIVE_URL: sqlite:/// needs a file path")
        return SqliteArchive(Path(path))
    if lowered.startswith(("postgresql://", "postgres://")):
        from herald.archive.postgres import PostgresArchive

        return PostgresArchive(url)
    raise ConfigError(
        "invalid HERALD_ARCHIVE_URL: use sqlite:///path, postgresql://..., memory or off"
    )
