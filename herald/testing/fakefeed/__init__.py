"""fakefeed: a local stand-in for RSS and Atom feeds, for tests, benchmarks and demos."""

from herald.testing.fakefeed.app import create_app
from herald.testing.fakefeed.server import default_fixtures, run
from herald.testing.fakefeed.service import FakeFeed

__all__ = ["FakeFeed", "create_app", "default_fixtures", "run"]
