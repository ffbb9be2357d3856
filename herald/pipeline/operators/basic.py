"""Element-wise operators: map, filter, flat_map, stateful, emit."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from herald.pipeline.operators.base import Element, Operator


class Map(Operator):
    kind = "map"

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        super().__init__()
        self.fn = fn

    def push(self, el: Element, now: float) -> list[Element]:
        try:
            el.value = self.fn(el.value)
        except Exception as exc:
            self.fail(el, exc)
            return []
        return [el]


class Filter(Operator):
    kind = "filter"

    def __init__(self, predicate: Callable[[Any], Any]) -> None:
        super().__init__()
        self.predicate = predicate

    def push(self, el: Element, now: float) -> list[Element]:
        try:
            keep = self.predicate(el.value)
        except Exception as exc:
            self.fail(el, exc)
            return []
        return [el] if keep else []


class FlatMap(Operator):
    """One element in, any number out; the n-th gets ``origin.n`` so keys stay unique."""

    kind = "flat_map"

    def __init__(self, fn: Callable[[Any], Iterable[Any]]) -> None:
        super().__init__()
        self.fn = fn

    def push(self, el: Element, now: float) -> list[Element]:
        try:
            values = list(self.fn(el.value))
        except Exception as exc:
            self.fail(el, exc)
            return []
        return [
            Element(value, el.time, f"{el.origin}.{index}", el.tag, el.source)
            for index, value in enumerate(values)
        ]


class Stateful(Operator):
    """Per-key state: ``fn(state, value) -> (state, output | None)``.

    State is kept per ``str(key(value))`` and must be JSON values, since it is snapshotted.
    A raising ``fn`` leaves that key's state as it was.
    """

    kind = "stateful"

    def __init__(
        self,
        key: Callable[[Any], Any],
        fn: Callable[[Any, Any], tuple[Any, Any]],
        initial: Any = None,
    ) -> None:
        super().__init__()
        self.key = key
        self.fn = fn
        self.initial = initial
        self.states: dict[str, Any] = {}

    def _initial(self) -> Any:
        return self.initial() if callable(self.initial) else copy.deepcopy(self.initial)

    def push(self, el: Element, now: float) -> list[Element]:
        try:
            key = str(self.key(el.value))
            state = self.states[key] if key in self.states else self._initial()
            state, out = self.fn(state, el.value)
        except Exception as exc:
            self.fail(el, exc)
            return []
        self.states[key] = state
        if out is None:
            return []
        return [Element(out, el.time, el.origin, el.tag, el.source)]

    def snapshot(self) -> Any:
        return self.states

    def restore(self, state: Any) -> None:
        self.states = dict(state or {})


class Emit(Operator):
    """Turns elements into named outputs; what reaches it leaves the flow."""

    kind = "emit"

    def __init__(self, name: str) -> None:
        super().__init__()
        if not name:
            raise ValueError("an output needs a name")
        self.name = name

    def push(self, el: Element, now: float) -> list[Element]:
        from herald.pipeline.core import Output

        value = el.value
        data = value if isinstance(value, Mapping) else {"value": value}
        self.ctx.outputs.append(Output(f"{self.name}:{el.origin}", self.name, data, el.time))
        self.metrics.out += 1
        return []
