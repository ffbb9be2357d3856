"""The stand-in's ASGI app: X's GraphQL paths, the session endpoints and the control API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from herald.testing.fakex.control import router as control_router
from herald.testing.fakex.dms import control as dm_control_router
from herald.testing.fakex.dms import router as dm_router
from herald.testing.fakex.graphql import router as graphql_router
from herald.testing.fakex.mutations import router as mutations_router
from herald.testing.fakex.pages import router as pages_router
from herald.testing.fakex.profile_page import router as profile_router
from herald.testing.fakex.service import FakeX


def create_app(
    fixtures_dir: Path | None = None, *, rate_limit: int = 500, rate_window: float = 900.0
) -> FastAPI:
    """The stand-in. ``fixtures_dir`` serves recorded responses for the recorded user."""
    fake = FakeX(fixtures_dir, rate_limit=rate_limit, rate_window=rate_window)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        fake.release.set()

    app = FastAPI(title="fakex", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.fakex = fake
    app.include_router(graphql_router)
    app.include_router(mutations_router)
    app.include_router(control_router)
    app.include_router(pages_router)
    app.include_router(dm_router)
    app.include_router(dm_control_router)
    app.include_router(profile_router)  # last: /{username} must not shadow the paths above
    return app
