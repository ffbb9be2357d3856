"""Running the stand-in with uvicorn (what ``herald fakesky`` calls), and where it finds the
recorded frames by default."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from herald.testing.fakesky.app import create_app
from herald.testing.fakesky.records import RECORDING

FIXTURES_ENV = "HERALD_FIXTURES"
FOLDER = "bluesky-jetstream"


def default_fixtures() -> Path | None:
    """``$HERALD_FIXTURES/bluesky-jetstream``, else the shared recordings beside the repository."""
    env = os.environ.get(FIXTURES_ENV)
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3].parent / "shared" / "fixtures")
    for folder in candidates:
        if (folder / FOLDER / RECORDING).is_file():
            return folder / FOLDER
        if (folder / RECORDING).is_file():
            return folder
    return None


def run(
    host: str = "127.0.0.1",
    port: int = 8094,
    fixtures_dir: Path | None = None,
    window: int = 100_000,
) -> None:
    app = create_app(fixtures_dir, window=window)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=2,
        ws="websockets-sansio",
    )
