"""One running stand-in: its world, recordings, faults, rate budgets and request counts."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter, deque
from datetime import datetime
from pathlib import Path
from typing import cast

from starlette.requests import Request

from herald.testing.fakex.dmstate import DirectMessages
from herald.testing.fakex.faults import Faults
from herald.testing.fakex.limits import RateLimits
from herald.testing.fakex.recordings import Recordings
from herald.testing.fakex.responses import Responder
from herald.testing.fakex.state import SEED_EPOCH, FakeUser, World, seeded_world

PAGE_IDS = 1000  # page loads whose transaction ids are still accepted


class FakeX:
    """Everything one running stand-in knows; ``reset()`` goes back to the seeded state."""

    def __init__(
        self, fixtures_dir: Path | None = None, *, rate_limit: int = 500, rate_window: float = 900.0
    ) -> None:
        self.fixtures_dir = fixtures_dir
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.release = asyncio.Event()  # set to end hanging (timeout-fault) requests
        self.reset()

    def reset(self) -> None:
        self.release.set()
        self.release = asyncio.Event()
        self.world: World = seeded_world()
        self.recordings = Recordings.load(self.fixtures_dir) if self.fixtures_dir else None
        if self.recordings is not None:
            self._add_recorded_user(self.recordings)
        self.responder = Responder(self.world, self.recordings)
        self.faults = Faults()
        self.dms = DirectMessages()
        self.limits = RateLimits(self.rate_limit, self.rate_window)
        self.requests: Counter[str] = Counter()
        self.page_requests: Counter[str] = Counter()
        self._page_ids: deque[str] = deque(maxlen=PAGE_IDS)

    def page_id(self) -> str:
        """A transaction id for one page load; the page's own GraphQL calls send it."""
        value = secrets.token_urlsafe(24)
        self._page_ids.append(value)
        return value

    def from_page(self, request: Request) -> bool:
        """A GraphQL request made by a page this stand-in served (see PAGE_PASSES)."""
        value = request.headers.get("x-client-transaction-id")
        return value is not None and value in self._page_ids

    def _add_recorded_user(self, recordings: Recordings) -> None:
        user = recordings.user
        self.world.ids.raise_floor(recordings.known_ids())
        created = datetime.fromisoformat(user.created_at) if user.created_at else SEED_EPOCH
        fake = FakeUser(user.id, user.username, user.name, created, recorded=True)
        fake.following = user.following_count or 0
        self.world.users[fake.id] = fake
        self.world.by_name[fake.username.lower()] = fake.id

    def user_payload(self, user: FakeUser) -> dict[str, object]:
        counts = self.responder.counts(user)
        return user.payload(counts.followers, counts.tweets)


def fakex_of(request: Request) -> FakeX:
    return cast(FakeX, request.app.state.fakex)
