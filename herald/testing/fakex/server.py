"""Running the stand-in with uvicorn (what ``herald fakex`` calls)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from herald.testing.fakex.app import create_app


def run(host: str = "127.0.0.1", port: int = 8090, fixtures_dir: Path | None = None) -> None:
    """Serve until interrupted; hanging (timeout-fault) requests do not hold up a stop."""
    app = create_app(Path(fixtures_dir) if fixtures_dir else None)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=2)
