"""The browser tests: Debian's Chromium driven by Playwright (never a downloaded browser).

Without Chromium they skip, and fail under CI=true (``make browser`` installs it).
"""

from __future__ import annotations

import pytest

from herald.browser import find_chromium
from herald.config import Settings
from tests.conftest import need


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium(Settings())
    need(path is not None, "Debian chromium is not installed (make browser)")
    assert path is not None
    return path
