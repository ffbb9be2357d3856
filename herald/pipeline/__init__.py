"""Stream processing over herald's event log: operators, windows, watermarks, state.

Build a :class:`Flow` of operators, run it as a :class:`Pipeline` (batches of log records,
a watermark, snapshots) or as a :class:`Stream` (an async iterator over any source).
"""

from herald.pipeline.clock import Clock, SystemClock, VirtualClock
from herald.pipeline.core import (
    DeadLetter,
    Output,
    Pipeline,
    PipelineStateError,
    Record,
    event_time,
)
from herald.pipeline.flow import Flow

__all__ = [
    "Clock",
    "DeadLetter",
    "Flow",
    "Output",
    "Pipeline",
    "PipelineStateError",
    "Record",
    "SystemClock",
    "VirtualClock",
    "event_time",
]
