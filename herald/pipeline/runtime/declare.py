"""Finding the declared pipelines: ``HERALD_PIPELINES`` names YAML files, folders of them,
and Python builders (``module:function``).

A Python builder is a function without arguments that returns a
:class:`~herald.pipeline.Pipeline`, a :class:`PipelineSpec` or a list of either. It is called
again for every fresh pipeline the runtime needs (each owner restores state into a new one),
so it should build, not hand out a shared instance.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from herald.errors import ConfigError
from herald.pipeline.core import Pipeline
from herald.pipeline.runtime.spec import PipelineSpec

_BUILDER = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
YAML_SUFFIXES = (".yaml", ".yml")


def _resolve(target: str) -> Callable[[], Any]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"pipeline builder {target}: cannot import {module_name}: {exc}"
        ) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ConfigError(f"pipeline builder {target}: {module_name} has no function {attr}")
    return fn  # type: ignore[no-any-return]


def _as_specs(made: Any, target: str) -> list[PipelineSpec | Pipeline]:
    items = made if isinstance(made, list | tuple) else [made]
    if not items or not all(isinstance(i, Pipeline | PipelineSpec) for i in items):
        raise ConfigError(
            f"pipeline builder {target} must return a Pipeline, a PipelineSpec or a list of them"
        )
    return list(items)


def load_builder(target: str) -> list[PipelineSpec]:
    """The pipelines a ``module:function`` builder declares."""
    fn = _resolve(target)
    try:
        made = _as_specs(fn(), target)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"pipeline builder {target} raised {type(exc).__name__}: {exc}") from None
    specs = []
    for item in made:
        if isinstance(item, PipelineSpec):
            specs.append(item if item.source else _with_source(item, target))
            continue
        name = item.name

        def build(name: str = name) -> Pipeline:
            for again in _as_specs(fn(), target):
                pipeline = again.build() if isinstance(again, PipelineSpec) else again
                if pipeline.name == name:
                    return pipeline
            raise ConfigError(f"pipeline builder {target} no longer builds {name!r}")

        specs.append(PipelineSpec(name=name, build=build, source=target))
    return specs


def _with_source(spec: PipelineSpec, source: str) -> PipelineSpec:
    from dataclasses import replace

    return replace(spec, source=source)


def load_declarations(setting: str | None) -> list[PipelineSpec]:
    """Every pipeline ``HERALD_PIPELINES`` declares; a duplicate name is refused."""
    from herald.pipeline.yamlspec import load_yaml_file

    specs: list[PipelineSpec] = []
    for part in (p.strip() for p in (setting or "").split(",")):
        if not part:
            continue
        path = Path(part)
        if path.is_dir():
            for file in sorted(f for f in path.iterdir() if f.suffix in YAML_SUFFIXES):
                specs.extend(load_yaml_file(file))
        elif path.suffix in YAML_SUFFIXES or path.exists():
            specs.extend(load_yaml_file(path))
        elif _BUILDER.match(part):
            specs.extend(load_builder(part))
        else:
            raise ConfigError(
                f"HERALD_PIPELINES: {part!r} is neither a YAML file, a folder nor module:function"
            )
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(
                f"pipeline {spec.name!r} is declared twice ({seen[spec.name]} and {spec.source})"
            )
        seen[spec.name] = spec.source
    return specs
