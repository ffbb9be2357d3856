"""The stand-in's ASGI app: ``/subscribe`` (Jetstream v1), the XRPC methods herald reads,
and the control API under ``/_fakesky``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from herald.testing.fakesky.control import router as control_router
from herald.testing.fakesky.service import FakeSky
from herald.testing.fakesky.wire import subscribe
from herald.testing.fakesky.xrpc import router as xrpc_router


def create_app(fixtures_dir: Path | None = None, *, window: int = 100_000) -> FastAPI:
    """The stand-in; ``fixtures_dir`` holds the recorded frames (``golden_v1.jsonl``), kept
    in the window at start so a cursor from before them replays them."""
    app = FastAPI(title="fakesky", docs_url=None, redoc_url=None)
    app.state.fakesky = FakeSky(fixtures_dir, window)
    app.add_api_websocket_route("/subscribe", subscribe)
    app.include_router(xrpc_router)
    app.include_router(control_router)
    return app
