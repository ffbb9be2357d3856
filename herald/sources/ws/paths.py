"""The path language of ``ws:feed`` maps: where a value sits in a JSON frame.

A path is ``$`` (the frame) followed by steps: ``.name``; ``['name']`` (with ``\\'`` and
``\\\\`` escaped) or ``["name"]`` (a JSON string), for any key, also one with dots or
brackets; and ``[n]`` (the n-th element of a list; ``[-1]`` is
the last). The ``$`` and the first dot may be left out: ``data.s`` is ``$.data.s``. That is
the whole language: no wildcards, filters or scripts, so evaluating a path costs one lookup
per step, and a path is at most :data:`MAX_STEPS` steps and :data:`MAX_CHARS` characters.
A path that cannot be read is refused when the stream starts, naming the option.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from herald.errors import ValidationError

MAX_STEPS = 32
MAX_CHARS = 256
_NAME = re.compile(r"[A-Za-z0-9_@:$-]+")
_INDEX = re.compile(r"\[(-?[0-9]{1,9})\]")
_SINGLE = re.compile(r"\['((?:[^'\\]|\\.)*)'\]")
_DOUBLE = re.compile(r'\[("(?:[^"\\]|\\.)*")\]')


def shown(value: object, limit: int = 60) -> str:
    """A value as an error message may quote it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Missing:
    """What a path gives when the frame has nothing there (distinct from JSON null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class Path:
    text: str
    steps: tuple[str | int, ...]

    def get(self, value: Any) -> Any:
        """The value at this path in ``value``, or :data:`MISSING`."""
        for step in self.steps:
            if isinstance(step, str):
                if not isinstance(value, dict):
                    return MISSING
                value = value.get(step, MISSING)
                if value is MISSING:
                    return MISSING
            else:
                if not isinstance(value, list) or not -len(value) <= step < len(value):
                    return MISSING
                value = value[step]
        return value


def compile_path(text: object, field: str) -> Path:
    """``text`` as a :class:`Path`; a :class:`ValidationError` naming ``field`` and the
    character where reading stopped otherwise."""
    if not isinstance(text, str) or not text:
        raise ValidationError(f"{field}: must be a path such as $.data.s (got {shown(text)})")
    if len(text) > MAX_CHARS:
        raise ValidationError(f"{field}: a path is at most {MAX_CHARS} characters")
    pos = 1 if text.startswith("$") else 0
    steps: list[str | int] = []
    first = True
    while pos < len(text):
        rest = text[pos:]
        if rest.startswith("."):
            match = _NAME.match(text, pos + 1)
            if match is None:
                raise _bad(text, pos + 1, field, "a name after '.'")
            steps.append(match.group(0))
        elif (match := _INDEX.match(text, pos)) is not None:
            steps.append(int(match.group(1)))
        elif (match := _SINGLE.match(text, pos)) is not None:
            steps.append(re.sub(r"\\(.)", r"\1", match.group(1)))
        elif (match := _DOUBLE.match(text, pos)) is not None:
            try:
                steps.append(str(orjson.loads(match.group(1))))
            except orjson.JSONDecodeError:
                raise _bad(text, pos, field, 'a JSON string inside ["..."]') from None
        elif first and pos == 0 and (match := _NAME.match(text, pos)) is not None:
            steps.append(match.group(0))
        else:
            raise _bad(text, pos, field, "'.name', '[n]' or '[\"name\"]'")
        pos = match.end()
        first = False
        if len(steps) > MAX_STEPS:
            raise ValidationError(f"{field}: a path has at most {MAX_STEPS} steps")
    return Path(text, tuple(steps))


def _bad(text: str, pos: int, field: str, wanted: str) -> ValidationError:
    return ValidationError(
        f"{field}: cannot read path {shown(text, 80)} at character {pos + 1}: expected {wanted}"
    )
