"""The stand-in's ASGI app: the recorded URL path as a WebSocket endpoint, and the control
API under ``/_fakews``."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.websockets import WebSocket

from herald.testing.fakews.control import router as control_router
from herald.testing.fakews.dialects import Binance, dialect_for
from herald.testing.fakews.recording import Recording
from herald.testing.fakews.service import FakeWs, fakews_of
from herald.testing.fakews.session import Session


def create_app(recording: Recording, speed: float | None = 1.0, loop: bool = False) -> FastAPI:
    """Serve ``recording`` on its own URL path (``/stream`` for a Binance combined stream,
    ``/`` for the Coinbase feed) at ``speed`` times its pace (None: as fast as it goes)."""
    app = FastAPI(title="fakews", docs_url=None, redoc_url=None)
    app.state.fakews = FakeWs(recording, speed, loop)
    app.include_router(control_router)

    @app.websocket("/{path:path}")
    async def upstream(websocket: WebSocket, path: str) -> None:
        fake = fakews_of(websocket)
        dialect = dialect_for(fake.recording.dialect, websocket.url.query)
        if "/" + path != fake.recording.path:
            fake.counts["refused"] += 1
            await websocket.close(1008, f"no such stream path /{path}")
            return
        if isinstance(dialect, Binance) and dialect.too_many():
            fake.counts["refused"] += 1
            await websocket.close(1008, dialect.too_many())
            return
        await websocket.accept()
        fake.counts["connections"] += 1
        session = Session(fake, websocket, dialect)
        fake.sessions.add(session)
        try:
            await session.run()
        finally:
            fake.sessions.discard(session)

    return app
