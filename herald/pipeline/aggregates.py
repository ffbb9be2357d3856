"""What a window folds its values into: count, sum, avg, min, max, collect, or your own fold.

An aggregate is three functions over a JSON-able accumulator (it is snapshotted with the
window): ``zero()``, ``add(acc, value)`` and ``result(acc)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class Aggregate:
    name: str
    zero: Callable[[], Any]
    add: Callable[[Any, Any], Any]
    result: Callable[[Any], Any] = _identity
    skip_none: bool = False  # a None result emits nothing (an inner join with a side missing)


class Agg:
    """The built-in aggregates; ``of`` picks the number out of a value (default: the value)."""

    @staticmethod
    def count() -> Aggregate:
        return Aggregate("count", lambda: 0, lambda acc, _value: acc + 1)

    @staticmethod
    def sum(of: Callable[[Any], Any] = _identity) -> Aggregate:
        return Aggregate("sum", lambda: 0, lambda acc, value: acc + of(value))

    @staticmethod
    def avg(of: Callable[[Any], Any] = _identity) -> Aggregate:
        def add(acc: list[Any], value: Any) -> list[Any]:
            return [acc[0] + of(value), acc[1] + 1]

        return Aggregate(
            "avg", lambda: [0, 0], add, lambda acc: acc[0] / acc[1] if acc[1] else None
        )

    @staticmethod
    def min(of: Callable[[Any], Any] = _identity) -> Aggregate:
        def add(acc: Any, value: Any) -> Any:
            number = of(value)
            return number if acc is None or number < acc else acc

        return Aggregate("min", lambda: None, add)

    @staticmethod
    def max(of: Callable[[Any], Any] = _identity) -> Aggregate:
        def add(acc: Any, value: Any) -> Any:
            number = of(value)
            return number if acc is None or number > acc else acc

        return Aggregate("max", lambda: None, add)

    @staticmethod
    def collect(of: Callable[[Any], Any] = _identity) -> Aggregate:
        return Aggregate("collect", list, lambda acc, value: [*acc, of(value)])

    @staticmethod
    def fold(
        initial: Callable[[], Any],
        fn: Callable[[Any, Any], Any],
        result: Callable[[Any], Any] = _identity,
    ) -> Aggregate:
        """Your own: ``initial()`` makes a fresh accumulator, ``fn(acc, value)`` the next."""
        return Aggregate("fold", initial, fn, result)
