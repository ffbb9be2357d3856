"""The fluent builder: ``Flow().filter(...).map(...).window(Tumbling(60)).aggregate(count())``.

A :class:`Flow` is a description; :class:`~herald.pipeline.core.Pipeline` and
:class:`~herald.pipeline.stream.Stream` build fresh operators from it, so one flow can
back several pipelines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Self

from herald.pipeline.operators.base import Operator
from herald.pipeline.operators.basic import Emit, Filter, FlatMap, Map, Stateful

Factory = Callable[[], Operator]


class Builder:
    """The operator methods, shared by :class:`Flow` and :class:`Stream`."""

    def _then(self, factory: Factory) -> Self:
        raise NotImplementedError

    def map(self, fn: Callable[[Any], Any]) -> Self:
        """Replace each value with ``fn(value)``."""
        return self._then(lambda: Map(fn))

    def filter(self, predicate: Callable[[Any], Any]) -> Self:
        """Keep the values for which ``predicate`` is true."""
        return self._then(lambda: Filter(predicate))

    def flat_map(self, fn: Callable[[Any], Iterable[Any]]) -> Self:
        """Replace each value with the values ``fn`` returns (zero or more)."""
        return self._then(lambda: FlatMap(fn))

    def stateful(
        self,
        key: Callable[[Any], Any],
        fn: Callable[[Any, Any], tuple[Any, Any]],
        initial: Any = None,
    ) -> Self:
        """Per-key state: ``fn(state, value) -> (new_state, output or None)``."""
        return self._then(lambda: Stateful(key, fn, initial))

    def emit(self, name: str) -> Self:
        """Send what arrives here out as outputs named ``name`` (it leaves the flow)."""
        return self._then(lambda: Emit(name))


class Flow(Builder):
    """An immutable list of operator factories; every method returns a longer flow."""

    def __init__(self, factories: tuple[Factory, ...] = ()) -> None:
        self._factories = factories

    def _then(self, factory: Factory) -> Self:
        return type(self)((*self._factories, factory))

    def build(self) -> list[Operator]:
        """Fresh operators, in order."""
        return [factory() for factory in self._factories]

    def __len__(self) -> int:
        return len(self._factories)
