"""Pipelines declared in YAML, for the common cases; anything else is Python.

```yaml
pipelines:
  - name: tesla-volume
    types: [tweet:new]              # runtime options: streams, types, skew, watermark, start
    steps:
      - filter: {keywords: [tesla]} # the subscription selector language (streamIds, types,
                                    #   and the filters: keywords, authors, regex, languages...)
      - window: {tumbling: 5m}      # or {sliding: 10m, every: 1m}, {session: 5m}; key: a path
      - aggregate: count            # or {sum: path}, {avg: path}, {min: path}, {max: path}
      - threshold: {above: 10}      # or below / equals, on the window's value (or field: path)
      - map: {count: value, from: start}  # project fields by path (no expressions, no eval)
      - output: volume              # the named output type
```

The document is read with PyYAML's composer so every node keeps its line: an unknown
operator, a bad filter or a step in the wrong place is refused at load with the file, the
line and the reason. Nothing is evaluated: paths are dotted field names, filters compile
through :mod:`herald.delivery.filters` (RE2 regexes, bounded terms).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from herald.errors import ConfigError, ValidationError
from herald.pipeline.aggregates import Agg, Aggregate
from herald.pipeline.core import Pipeline
from herald.pipeline.flow import Flow
from herald.pipeline.runtime.spec import OPTIONS, PipelineSpec, check_name, duration, parse_options
from herald.pipeline.windows import Session, Sliding, Tumbling, WindowSpec

OPERATORS = ("filter", "map", "window", "aggregate", "threshold", "output")
_PATH = re.compile(r"^[A-Za-z0-9_@$\-]+(\.[A-Za-z0-9_@$\-]+)*$")
_PIPELINE_FIELDS = frozenset({"name", "steps", "description", *OPTIONS})


class _At(ConfigError):
    """An error at one node; the loader adds the file name."""

    def __init__(self, node: Any, reason: str) -> None:
        super().__init__(reason)
        self.line = node.start_mark.line + 1 if node is not None else 0
        self.reason = reason


def _value(node: Any) -> Any:
    """Plain Python of a node (scalars typed by YAML's resolver)."""
    return yaml.safe_load(yaml.serialize(node))


def _mapping(node: Any, what: str) -> list[tuple[str, Any, Any]]:
    """(key, key node, value node) of a mapping node."""
    if not isinstance(node, yaml.MappingNode):
        raise _At(node, f"{what} must be a mapping")
    return [(str(k.value), k, v) for k, v in node.value]


def path_getter(path: str, node: Any = None) -> Callable[[Any], Any]:
    """A dotted field path (``tweet.metrics.likes``) as a function; no expressions."""
    if not isinstance(path, str) or not _PATH.match(path):
        raise _At(node, f"{str(path)[:64]!r} is not a field path such as tweet.text")
    parts = path.split(".")

    def get(value: Any) -> Any:
        for part in parts:
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return None
        return value

    return get


def _number(value: Any, node: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _At(node, f"{what} must be a number")
    return float(value)


def _filter(node: Any) -> Callable[[Any], bool]:
    from herald.delivery.filters import parse_filter
    from herald.delivery.subscription import event_types

    raw = _value(node)
    if not isinstance(raw, dict):
        raise _At(node, "filter must be a mapping of the subscription selector language")
    raw = dict(raw)
    nested = raw.pop("filters", None)
    if isinstance(nested, dict):
        raw.update(nested)
    try:
        types = event_types(list(raw.pop("types"))) if "types" in raw else None
        streams = frozenset(str(s) for s in raw.pop("streamIds")) if "streamIds" in raw else None
        content = parse_filter(raw)
    except (ValidationError, TypeError) as exc:
        raise _At(node, f"bad filter: {getattr(exc, 'detail', exc)}") from None

    def keep(event: Any) -> bool:
        if not isinstance(event, dict):
            return False
        if types is not None and event.get("type") not in types:
            return False
        if streams is not None and event.get("streamId") not in streams:
            return False
        return content is None or content(event)

    return keep


def _map(node: Any) -> Callable[[Any], Any]:
    fields = [(key, path_getter(str(_value(v)), v)) for key, _k, v in _mapping(node, "map")]
    if not fields:
        raise _At(node, "map needs at least one field: {name: path}")

    def project(value: Any) -> dict[str, Any]:
        return {key: get(value) for key, get in fields}

    return project


def _window(node: Any) -> tuple[WindowSpec, Callable[[Any], Any] | None]:
    items = {key: (k, v) for key, k, v in _mapping(node, "window")}
    unknown = sorted(set(items) - {"tumbling", "sliding", "every", "session", "key"})
    if unknown:
        raise _At(items[unknown[0]][0], f"unknown window option {unknown[0]!r}")
    kinds = [k for k in ("tumbling", "sliding", "session") if k in items]
    if len(kinds) != 1:
        raise _At(node, "a window is exactly one of tumbling, sliding or session")
    kind = kinds[0]
    size_node = items[kind][1]
    try:
        size = duration(_value(size_node), f"window.{kind}")
        spec: WindowSpec
        if kind == "tumbling":
            spec = Tumbling(size)
        elif kind == "session":
            spec = Session(size)
        else:
            if "every" not in items:
                raise _At(node, "a sliding window needs every: (its step)")
            spec = Sliding(size, duration(_value(items["every"][1]), "window.every"))
    except (ConfigError, ValueError) as exc:
        if isinstance(exc, _At):
            raise
        raise _At(size_node, str(getattr(exc, "detail", exc))) from None
    key = path_getter(str(_value(items["key"][1])), items["key"][1]) if "key" in items else None
    return spec, key


def _aggregate(node: Any) -> Aggregate:
    if isinstance(node, yaml.ScalarNode):
        if node.value == "count":
            return Agg.count()
        raise _At(node, f"unknown aggregate {node.value!r}; known: count, sum, avg, min, max")
    (name, key_node, value_node), *rest = _mapping(node, "aggregate") or [("", node, node)]
    makers = {"sum": Agg.sum, "avg": Agg.avg, "min": Agg.min, "max": Agg.max}
    if rest or name not in makers:
        raise _At(key_node, f"unknown aggregate {name!r}; known: count, sum, avg, min, max")
    get = path_getter(str(_value(value_node)), value_node)
    return makers[name](lambda v: get(v) or 0)


def _threshold(node: Any) -> Callable[[Any], bool]:
    items = {key: (k, v) for key, k, v in _mapping(node, "threshold")}
    tests: dict[str, Callable[[float, float], bool]] = {
        "above": lambda x, n: x > n,
        "below": lambda x, n: x < n,
        "equals": lambda x, n: x == n,
    }
    unknown = sorted(set(items) - {*tests, "field"})
    if unknown:
        raise _At(items[unknown[0]][0], f"unknown threshold option {unknown[0]!r}")
    chosen = [t for t in tests if t in items]
    if len(chosen) != 1:
        raise _At(node, "a threshold is exactly one of above, below or equals")
    limit = _number(_value(items[chosen[0]][1]), items[chosen[0]][1], f"threshold.{chosen[0]}")
    field_node = items["field"][1] if "field" in items else None
    get = path_getter(str(_value(field_node)), field_node) if field_node else path_getter("value")
    test = tests[chosen[0]]

    def passes(value: Any) -> bool:
        got = get(value)
        return isinstance(got, int | float) and not isinstance(got, bool) and test(got, limit)

    return passes


class _Steps:
    """Builds the flow step by step; a window waits for its aggregate."""

    def __init__(self) -> None:
        self.flow = Flow()
        self.output: str | None = None
        self.window: tuple[WindowSpec, Callable[[Any], Any] | None, Any] | None = None

    def add(self, name: str, key_node: Any, value: Any) -> None:
        if name not in OPERATORS:
            raise _At(key_node, f"unknown operator {name!r}; known: {', '.join(OPERATORS)}")
        if self.output is not None:
            raise _At(key_node, "output must be the last step")
        if self.window is not None and name != "aggregate":
            raise _At(key_node, "a window must be followed by aggregate")
        if name == "aggregate":
            if self.window is None:
                raise _At(key_node, "aggregate must follow a window")
            spec, key, _ = self.window
            self.flow = self.flow.window(spec, key).aggregate(_aggregate(value))
            self.window = None
        elif name == "window":
            spec, key = _window(value)
            self.window = (spec, key, key_node)
        elif name == "output":
            self.output = _output(value)
        else:
            made = {"filter": _filter, "map": _map, "threshold": _threshold}[name](value)
            self.flow = self.flow.map(made) if name == "map" else self.flow.filter(made)


def _output(node: Any) -> str:
    output = str(_value(node))
    if not output or not re.match(r"^[A-Za-z0-9_.:\-]{1,64}$", output):
        raise _At(node, "output must name an output type (letters, digits, _ . : -)")
    return output


def _steps(node: Any) -> tuple[Flow, str | None]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise _At(node, "steps must be a non-empty list of operators")
    steps = _Steps()
    for step in node.value:
        entries = _mapping(step, "a step")
        if len(entries) != 1:
            raise _At(step, "a step is one operator: {name: options}")
        steps.add(*entries[0])
    if steps.window is not None:
        raise _At(steps.window[2], "a window must be followed by aggregate")
    return steps.flow, steps.output


def _pipeline(node: Any, source: str) -> PipelineSpec:
    items = {key: (k, v) for key, k, v in _mapping(node, "a pipeline")}
    unknown = sorted(set(items) - _PIPELINE_FIELDS)
    if unknown:
        raise _At(items[unknown[0]][0], f"unknown pipeline field {unknown[0]!r}")
    if "name" not in items:
        raise _At(node, "a pipeline needs a name")
    if "steps" not in items:
        raise _At(node, "a pipeline needs steps")
    name_node = items["name"][1]
    try:
        name = check_name(str(_value(name_node)))
    except ConfigError as exc:
        raise _At(name_node, exc.detail) from None
    flow, output = _steps(items["steps"][1])
    options: dict[str, Any] = {}
    for option in OPTIONS & set(items):
        try:
            options.update(parse_options({option: _value(items[option][1])}))
        except ConfigError as exc:
            raise _At(items[option][1], exc.detail) from None

    def build() -> Pipeline:
        return Pipeline(name, flow, output=output)

    return PipelineSpec(name=name, build=build, source=source, **options)


def load_yaml(text: str, filename: str = "<yaml>") -> list[PipelineSpec]:
    """The pipelines a YAML document declares; :class:`ConfigError` with the line if wrong."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            raise _At(None, "the file declares no pipeline")
        items = {key: (k, v) for key, k, v in _mapping(root, "the document")}
        if "pipelines" in items:
            extra = sorted(set(items) - {"pipelines"})
            if extra:
                raise _At(items[extra[0]][0], f"unknown top-level field {extra[0]!r}")
            seq = items["pipelines"][1]
            if not isinstance(seq, yaml.SequenceNode) or not seq.value:
                raise _At(seq, "pipelines must be a non-empty list")
            nodes = list(seq.value)
        else:
            nodes = [root]
        specs = [_pipeline(node, f"{filename}") for node in nodes]
    except _At as exc:
        where = f"{filename} line {exc.line}" if exc.line else filename
        raise ConfigError(f"{where}: {exc.reason}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{filename}{line}: not valid YAML: {problem}") from None
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(f"{filename}: pipeline {spec.name!r} is declared twice")
        seen.add(spec.name)
    return specs


def load_yaml_file(path: Path) -> list[PipelineSpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read pipelines file {path}: {exc.strerror or exc}") from None
    return load_yaml(text, str(path))
