"""Running the stand-in with uvicorn (what ``herald fakefeed`` calls), and where it finds
the recorded feeds by default."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from herald.testing.fakefeed.app import create_app

FIXTURES_ENV = "HERALD_FIXTURES"


def default_fixtures() -> Path | None:
    """``$HERALD_FIXTURES/rss``, else the shared recordings beside the repository."""
    env = os.environ.get(FIXTURES_ENV)
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3].parent / "shared" / "fixtures")
    for folder in candidates:
        if (folder / "rss").is_dir():
            return folder / "rss"
        if folder.is_dir() and any(folder.glob("*.rss")):
            return folder
    return None


def run(host: str = "127.0.0.1", port: int = 8092, fixtures_dir: Path | None = None) -> None:
    app = create_app(fixtures_dir)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=2)
