"""Stream processing over herald's event log: operators, windows, watermarks, state.

Build a :class:`Flow` of operators, run it as a :class:`Pipeline` (batches of log records,
a watermark, snapshots) or as a :class:`Stream` (an async iterator over any source).
"""

from herald.pipeline.aggregates import Agg, Aggregate
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
from herald.pipeline.resilience import CircuitBreaker, CircuitOpen, RetryPolicy
from herald.pipeline.stream import BufferOverflow, Stream, merge
from herald.pipeline.windows import Session, Sliding, Tumbling

__all__ = [
    "Agg",
    "Aggregate",
    "BufferOverflow",
    "CircuitBreaker",
    "CircuitOpen",
    "Clock",
    "DeadLetter",
    "Flow",
    "Output",
    "Pipeline",
    "PipelineStateError",
    "Record",
    "RetryPolicy",
    "Session",
    "Sliding",
    "Stream",
    "SystemClock",
    "Tumbling",
    "VirtualClock",
    "event_time",
    "merge",
]
