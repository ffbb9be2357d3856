"""fakex: a local stand-in for X's web GraphQL API, for tests, benchmarks and demos."""

from herald.testing.fakex.app import create_app
from herald.testing.fakex.server import run
from herald.testing.fakex.service import FakeX

__all__ = ["FakeX", "create_app", "run"]
