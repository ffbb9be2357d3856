"""One running feed stand-in: its feeds, faults and request counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import cast

from starlette.requests import Request

from herald.testing.fakefeed.faults import Faults
from herald.testing.fakefeed.feeds import FeedDoc, load_folder


class FakeFeed:
    """Everything one stand-in knows; ``reset()`` reloads the recordings."""

    def __init__(self, fixtures_dir: Path | None = None) -> None:
        self.fixtures_dir = fixtures_dir
        self.reset()

    def reset(self) -> None:
        self.feeds: dict[str, FeedDoc] = load_folder(self.fixtures_dir) if self.fixtures_dir else {}
        self.faults = Faults()
        self.requests: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.serial = 0

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def counts(self) -> dict[str, object]:
        feeds = {name: dict(c) for name, c in self.requests.items()}
        return {"total": sum(c["total"] for c in self.requests.values()), "feeds": feeds}


def fakefeed_of(request: Request) -> FakeFeed:
    return cast(FakeFeed, request.app.state.fakefeed)
