"""fakedon: a local stand-in for a Mastodon instance's REST API, built from recorded
cassettes, for tests, benchmarks and demos."""

from herald.testing.fakedon.app import create_app
from herald.testing.fakedon.recordings import Recordings
from herald.testing.fakedon.server import run
from herald.testing.fakedon.service import FakeDon

__all__ = ["FakeDon", "Recordings", "create_app", "run"]
