"""fakews: a local WebSocket upstream that replays a recorded exchange session."""

from herald.testing.fakews.app import create_app
from herald.testing.fakews.recording import (
    Recorded,
    Recording,
    RecordingError,
    load_recording,
    parse_recording,
)
from herald.testing.fakews.server import run
from herald.testing.fakews.service import FakeWs

__all__ = [
    "FakeWs",
    "Recorded",
    "Recording",
    "RecordingError",
    "create_app",
    "load_recording",
    "parse_recording",
    "run",
]
