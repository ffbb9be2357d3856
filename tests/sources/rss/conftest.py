"""RSS fixtures: the recorded feeds, and settings for a Herald on real Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
from rss_support import feeds_dir

from herald.config import Settings


@pytest.fixture
def feeds() -> Path:
    return feeds_dir()


@pytest.fixture
def settings(redis_url: str, key_prefix: str, tmp_path: Path) -> Settings:
    """A Herald on each Redis backend, polled by hand (no worker)."""
    return Settings(
        redis_url=redis_url,
        redis_prefix=key_prefix,
        data_dir=tmp_path,
        min_interval=0.1,
        default_interval=60,
        poll_timeout=10,
        reconcile_interval=0.5,
        jitter=0,
    )
