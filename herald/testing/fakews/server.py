"""Running the stand-in with uvicorn (what ``herald fakews`` calls)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from herald.testing.fakews.app import create_app
from herald.testing.fakews.recording import load_recording


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
