"""fakedon's ASGI app: the Mastodon REST paths herald reads, and the control API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from herald.testing.fakedon.api import routes as api_routes
from herald.testing.fakedon.control import routes as control_routes
from herald.testing.fakedon.recordings import Recordings
from herald.testing.fakedon.service import FakeDon

Scope = dict[str, Any]


def create_app(fixtures_dir: Path, *, base_url: str | None = None) -> Any:
    """The stand-in, built from the cassettes in ``fixtures_dir``. New objects carry
    ``base_url`` in their links (default: the address of the first request)."""
    fake = FakeDon(Recordings.load(Path(fixtures_dir)))
    if base_url:
        fake.world.base_url = base_url.rstrip("/")
    app = Starlette(routes=[*api_routes, *control_routes])
    app.state.fakedon = fake
    return _learn_address(app, fake, fixed=bool(base_url))


def _learn_address(app: Starlette, fake: FakeDon, fixed: bool) -> Any:
    """Until a base URL is known, take it from the first request's Host header."""
    seen = fixed

    async def asgi(
        scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[..., Awaitable[None]]
    ) -> None:
        nonlocal seen
        if not seen and scope["type"] == "http":
            host = dict(scope.get("headers") or []).get(b"host")
            if host:
                fake.world.base_url = f"{scope.get('scheme', 'http')}://{host.decode()}"
                seen = True
        await app(scope, receive, send)

    asgi.state = app.state  # type: ignore[attr-defined]
    return asgi
