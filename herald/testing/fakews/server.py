"""Running the stand-in with uvicorn (what ``herald fakews`` calls)."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from herald.testing.fakews.app import create_app
from herald.testing.fakews.recording import load_recording

FIXTURES_ENV = "HERALD_FIXTURES"


def default_exchanges() -> Path | None:
    """``$HERALD_FIXTURES/exchanges``, else the shared recordings beside the repository."""
    env = os.environ.get(FIXTURES_ENV)
    roots = [Path(env)] if env else []
    roots.append(Path(__file__).resolve().parents[3].parent / "shared" / "fixtures")
    for root in roots:
        if (root / "exchanges").is_dir():
            return root / "exchanges"
    return None


def run(
    recording: Path,
    host: str = "127.0.0.1",
    port: int = 8095,
    speed: float | None = 1.0,
    loop: bool = False,
) -> None:
    """Serve ``recording``; raises :class:`RecordingError` (a ValueError) when it is not one."""
    app = create_app(load_recording(recording), speed, loop)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=2)
