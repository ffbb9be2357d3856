"""The fluent builder: ``Flow().filter(...).map(...).window(Tumbling(60)).aggregate(...)``.

A :class:`Flow` is a description; :class:`~herald.pipeline.core.Pipeline` and
:class:`~herald.pipeline.stream.Stream` build fresh operators from it, so one flow can
back several pipelines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, Literal, Self, TypeVar

from herald.pipeline.aggregates import Aggregate
from herald.pipeline.operators.base import Operator
from herald.pipeline.operators.basic import Emit, Filter, FlatMap, Map, Stateful
from herald.pipeline.operators.calls import Call, Caller, Tee
from herald.pipeline.operators.fork import Fork, Join
from herald.pipeline.operators.timed import Batch, Debounce, RateLimit, Throttle
from herald.pipeline.resilience import RetryPolicy
from herald.pipeline.windows import Window, WindowSpec

Factory = Callable[[], Operator]
B = TypeVar("B", bound="Builder")


class Windowed(Generic[B]):
    """``.window(...)`` waiting for its ``.aggregate(...)``."""

    def __init__(
        self, builder: B, spec: WindowSpec, key: Callable[[Any], Any] | None, fill_empty: bool
    ) -> None:
        self._builder = builder
        self._spec = spec
        self._key = key
        self._fill = fill_empty

    def aggregate(self, aggregate: Aggregate) -> B:
        spec, key, fill = self._spec, self._key, self._fill
        Window(spec, aggregate, key, fill)
        return self._builder._then(lambda: Window(spec, aggregate, key, fill))


class Builder:
    """The operator methods, shared by :class:`Flow` and :class:`Stream`."""

    def _then(self, factory: Factory) -> Self:
        raise NotImplementedError

    def _wrap_last(self, what: str, change: Callable[[Caller], None]) -> Self:
        raise NotImplementedError

    def _fork_names(self) -> tuple[str, ...] | None:
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

    def batch(self, size: int, timeout: float | None = None) -> Self:
        """Lists of ``size`` values, or fewer when ``timeout`` s passed since the first."""
        Batch(size, timeout)  # validate now, not at build
        return self._then(lambda: Batch(size, timeout))

    def window(
        self,
        spec: WindowSpec,
        key: Callable[[Any], Any] | None = None,
        *,
        fill_empty: bool = False,
    ) -> Windowed[Self]:
        """Windows by event time (per ``key``); follow with ``.aggregate(Agg.count())``.

        ``fill_empty`` (tumbling only): once a key has been seen, every later window of it
        is emitted as the watermark passes, a window with no items as the aggregate of
        nothing (a count of 0), so "nothing happened" is an output, not a silence.
        """
        return Windowed(self, spec, key, fill_empty)

    def rate_limit(
        self,
        rate: float,
        burst: float | None = None,
        overflow: Literal["delay", "drop"] = "delay",
        capacity: int = 10_000,
    ) -> Self:
        """A token bucket of ``rate``/s; over the rate, hold (``delay``) or ``drop``."""
        RateLimit(rate, burst, overflow, capacity)
        return self._then(lambda: RateLimit(rate, burst, overflow, capacity))

    def throttle(self, interval: float) -> Self:
        """The first value of each ``interval`` s; the others are dropped."""
        Throttle(interval)
        return self._then(lambda: Throttle(interval))

    def debounce(self, wait: float, key: Callable[[Any], Any] | None = None) -> Self:
        """The last value of a burst, ``wait`` s after it (per ``key``)."""
        Debounce(wait, key)
        return self._then(lambda: Debounce(wait, key))

    def call(self, fn: Callable[[Any], Any]) -> Self:
        """``await fn(value)`` (or a plain call): for enrichers; wrap with retry/breaker."""
        return self._then(lambda: Call(fn))

    def tee(self, sink: Callable[[Any], Any]) -> Self:
        """Hand each value to ``sink`` (sync or async) and pass it on."""
        return self._then(lambda: Tee(sink))

    def retry(self, policy: RetryPolicy) -> Self:
        """Retry the ``call`` or ``tee`` just before this per ``policy``."""

        def change(op: Caller) -> None:
            op.retry = policy

        return self._wrap_last("retry", change)

    def circuit_breaker(self, threshold: int, recovery: float) -> Self:
        """Guard the ``call`` or ``tee`` just before: open after ``threshold`` failures in a
        row, try again after ``recovery`` s; while open, values are dead-lettered."""
        if threshold < 1 or not recovery > 0:
            raise ValueError("a breaker needs threshold >= 1 and recovery > 0")

        def change(op: Caller) -> None:
            op.breaker_config = (threshold, recovery)

        return self._wrap_last("circuit_breaker", change)

    def fork(self, **branches: Flow | Callable[[Flow], Flow]) -> Self:
        """Send every value down each named branch; merge what they produce (tagged)."""
        built = {name: b if isinstance(b, Flow) else b(Flow()) for name, b in branches.items()}
        if not built:
            raise ValueError("fork needs at least one branch")
        return self._then(lambda: Fork(built))._named(tuple(built))

    def join(
        self,
        key: Callable[[Any], Any],
        window: WindowSpec,
        how: Literal["inner", "outer"] = "inner",
    ) -> Self:
        """After a fork: per key and window, ``{branch: [values]}`` of every branch."""
        names = self._fork_names()
        if names is None:
            raise ValueError("join() follows fork()")
        Join(window, key, how, names)
        return self._then(lambda: Join(window, key, how, names))

    def emit(self, name: str) -> Self:
        """Send what arrives here out as outputs named ``name`` (it leaves the flow)."""
        Emit(name)
        return self._then(lambda: Emit(name))

    def _named(self, names: tuple[str, ...]) -> Self:
        return self


class Flow(Builder):
    """An immutable list of operator factories; every method returns a longer flow."""

    def __init__(
        self, factories: Sequence[Factory] = (), branches: tuple[str, ...] | None = None
    ) -> None:
        self._factories = tuple(factories)
        self._branches = branches

    def _then(self, factory: Factory) -> Self:
        # The branch names of the last fork stay known: elements keep their branch tag
        # through the operators after it, up to a join.
        return type(self)((*self._factories, factory), self._branches)

    def _named(self, names: tuple[str, ...]) -> Self:
        return type(self)(self._factories, names)

    def _fork_names(self) -> tuple[str, ...] | None:
        return self._branches

    def _wrap_last(self, what: str, change: Callable[[Caller], None]) -> Self:
        if not self._factories:
            raise ValueError(f"{what}() follows call() or tee()")
        last = self._factories[-1]
        if not isinstance(last(), Caller):
            raise ValueError(f"{what}() follows call() or tee()")

        def factory() -> Operator:
            op = last()
            assert isinstance(op, Caller)
            change(op)
            return op

        return type(self)((*self._factories[:-1], factory), self._branches)

    def build(self) -> list[Operator]:
        """Fresh operators, in order."""
        return [factory() for factory in self._factories]

    def __len__(self) -> int:
        return len(self._factories)
