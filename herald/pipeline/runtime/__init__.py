"""Running pipelines on the global log: consumer group, lease, one-script commits, replay."""

from herald.pipeline.runtime.control import PipelineControl
from herald.pipeline.runtime.declare import load_builder, load_declarations
from herald.pipeline.runtime.host import PipelineHost
from herald.pipeline.runtime.replay import dry_run, parse_bound, parse_speed, replay
from herald.pipeline.runtime.runner import PipelineRunner
from herald.pipeline.runtime.spec import PipelineSpec

__all__ = [
    "PipelineControl",
    "PipelineHost",
    "PipelineRunner",
    "PipelineSpec",
    "dry_run",
    "load_builder",
    "load_declarations",
    "parse_bound",
    "parse_speed",
    "replay",
]
