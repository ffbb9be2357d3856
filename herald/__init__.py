"""herald: self-hosted, real-time social monitoring.

The public surface is small on purpose; everything else is importable from its module.
"""

from __future__ import annotations

__version__ = "0.1.0"

from herald.config import Settings
from herald.engine.manager import STREAM_TYPES
from herald.errors import HeraldError
from herald.events import Event, EventType
from herald.service import Herald

__all__ = [
    "STREAM_TYPES",
    "Event",
    "EventType",
    "Herald",
    "HeraldError",
    "Settings",
    "__version__",
]
