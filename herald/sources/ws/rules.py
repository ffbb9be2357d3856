"""Rules: which frames a ``ws:feed`` stream keeps, and what each becomes.

A rule is data (the ``map`` option, or an entry of a preset's ``rules``): ``match``
conditions on paths of the frame, then the paths of the fields its event needs. Conditions
are an equality (a JSON scalar), one of a list of scalars, or one operator object:
``{"exists": bool}``, ``{"prefix": "..."}``, ``{"suffix": "..."}``, ``{"in": [...]}``.
Every condition must hold. Each costs one path lookup and one comparison: a stream's rules
are bounded (:data:`MAX_CONDITIONS`, :data:`MAX_RULES`), so is the work per frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from herald.errors import ValidationError
from herald.sources.ws.paths import MISSING, Path, compile_path, shown

MAX_CONDITIONS = 16
MAX_CHOICES = 64
MAX_RULES = 32
EventKind = Literal["message", "trade", "ticker"]
FIELDS: dict[str, tuple[str, ...]] = {
    "message": ("id", "time", "text", "data"),
    "trade": ("id", "symbol", "price", "size", "time"),
    "ticker": ("id", "symbol", "price", "bid", "bidSize", "ask", "askSize", "volume", "time"),
}
"""The fields each kind of rule may map (a trade's ``side`` has its own rule)."""
REQUIRED: dict[str, tuple[str, ...]] = {
    "message": (),
    "trade": ("id", "symbol", "price", "size"),
    "ticker": ("symbol",),
}
_OPERATORS = ("exists", "prefix", "suffix", "in")


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _same(a: object, b: object) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` is ``1.0``."""
    return isinstance(a, bool) == isinstance(b, bool) and bool(a == b)


@dataclass(frozen=True, slots=True)
class Condition:
    path: Path
    op: str
    value: Any

    def holds(self, frame: Any) -> bool:
        found = self.path.get(frame)
        if self.op == "exists":
            return (found is not MISSING) is bool(self.value)
        if found is MISSING:
            return False
        if self.op == "eq":
            return _same(found, self.value)
        if self.op == "in":
            return any(_same(found, v) for v in self.value)
        if not isinstance(found, str):
            return False
        return found.startswith(self.value) if self.op == "prefix" else found.endswith(self.value)


def _condition(path_text: str, spec: object, field_: str) -> Condition:
    path = compile_path(path_text, f"{field_} key")
    if _scalar(spec):
        return Condition(path, "eq", spec)
    if isinstance(spec, list):
        return _choices(path, spec, field_)
    if isinstance(spec, Mapping) and len(spec) == 1:
        ((op, value),) = spec.items()
        if op == "exists" and isinstance(value, bool):
            return Condition(path, "exists", value)
        if op in ("prefix", "suffix") and isinstance(value, str) and value:
            return Condition(path, op, value)
        if op == "in" and isinstance(value, list):
            return _choices(path, value, field_)
    raise ValidationError(
        f"{field_}: must be a JSON scalar (equals), a list of scalars (one of), or one of "
        f"{{{', '.join(f'{o!r}: ...' for o in _OPERATORS)}}} (got {shown(spec)})"
    )


def _choices(path: Path, values: list[Any], field_: str) -> Condition:
    if not values or len(values) > MAX_CHOICES or not all(_scalar(v) for v in values):
        raise ValidationError(f"{field_}: a list of 1 to {MAX_CHOICES} JSON scalars")
    return Condition(path, "in", tuple(values))


def compile_match(spec: object, field_: str) -> tuple[Condition, ...]:
    if spec is None:
        return ()
    if not isinstance(spec, Mapping):
        raise ValidationError(f"{field_}: must be an object of path: condition")
    if len(spec) > MAX_CONDITIONS:
        raise ValidationError(f"{field_}: at most {MAX_CONDITIONS} conditions")
    return tuple(_condition(str(k), v, f"{field_}.{k}") for k, v in spec.items())


@dataclass(frozen=True, slots=True)
class Sequence:
    """Numbers that go up by one per item of one key (a product's trade ids): a jump is a
    gap of exactly that many items; a number already seen is a replay, dropped."""

    name: str
    key: Path
    number: Path


@dataclass(frozen=True, slots=True)
class Rule:
    event: EventKind
    match: tuple[Condition, ...]
    fields: dict[str, Path]
    side: Path | None = None
    sides: dict[str, str] = field(default_factory=dict)
    """The side field's value (JSON text: ``true``, ``"buy"``) -> ``buy`` or ``sell``."""
    sequence: Sequence | None = None
    channel: str | None = None
    """A preset's channel the rule belongs to: only streams of that channel use it."""
    history: bool = False
    """Sent on subscribe about an item from before it (Coinbase's ``last_match``): only
    seeds the sequence, unless it fills a gap after a reconnect."""

    def matches(self, frame: Any) -> bool:
        return all(c.holds(frame) for c in self.match)


def compile_rule(spec: Mapping[str, Any], field_: str) -> Rule:
    """A preset's rule: ``{event, match, fields, side?, sequence?, history?}``."""
    event = spec.get("event")
    if event not in FIELDS:
        raise ValidationError(f"{field_}.event: one of {', '.join(FIELDS)} (got {shown(event)})")
    fields_spec = spec.get("fields", {})
    unknown = set(fields_spec) - set(FIELDS[event])
    if unknown:
        raise ValidationError(f"{field_}.fields: unknown field(s) {', '.join(sorted(unknown))}")
    missing = set(REQUIRED[event]) - set(fields_spec)
    if missing:
        raise ValidationError(f"{field_}.fields: {event} needs {', '.join(sorted(missing))}")
    fields = {k: compile_path(v, f"{field_}.fields.{k}") for k, v in fields_spec.items()}
    side = spec.get("side")
    sequence = spec.get("sequence")
    return Rule(
        event=event,
        match=compile_match(spec.get("match"), f"{field_}.match"),
        fields=fields,
        side=compile_path(side["path"], f"{field_}.side.path") if side else None,
        sides=dict(side.get("values", {})) if side else {},
        sequence=Sequence(
            str(sequence["name"]),
            compile_path(sequence["key"], f"{field_}.sequence.key"),
            compile_path(sequence["number"], f"{field_}.sequence.number"),
        )
        if sequence
        else None,
        channel=str(spec["channel"]) if "channel" in spec else None,
        history=bool(spec.get("history", False)),
    )


MAP_KEYS = ("match", "id", "time", "text", "data")


def compile_map(spec: object, field_: str = "options.map") -> Rule:
    """The ``map`` option: ``{match?, id?, time?, text?, data?}`` -> one message rule."""
    if not isinstance(spec, Mapping):
        raise ValidationError(f"{field_}: must be an object with {', '.join(MAP_KEYS)}")
    unknown = set(spec) - set(MAP_KEYS)
    if unknown:
        raise ValidationError(
            f"{field_}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(MAP_KEYS)})"
        )
    fields = {
        k: compile_path(spec[k], f"{field_}.{k}")
        for k in ("id", "time", "text", "data")
        if k in spec
    }
    return Rule("message", compile_match(spec.get("match"), f"{field_}.match"), fields)
