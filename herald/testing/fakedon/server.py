"""Running the stand-in with uvicorn (what ``herald fakedon`` calls)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from herald.testing.fakedon.app import create_app


def run(fixtures_dir: Path, host: str = "127.0.0.1", port: int = 8093) -> None:
    host_part = f"[{host}]" if ":" in host else host
    app = create_app(fixtures_dir, base_url=f"http://{host_part}:{port}")
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=2)
