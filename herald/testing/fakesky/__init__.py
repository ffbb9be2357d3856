"""fakesky: a local Jetstream stand-in (``/subscribe``) with Bluesky's handle resolution
and profiles, built from recorded frames, for tests, benchmarks and demos."""

from herald.testing.fakesky.app import create_app
from herald.testing.fakesky.server import default_fixtures, run
from herald.testing.fakesky.service import FakeSky

__all__ = ["FakeSky", "create_app", "default_fixtures", "run"]
