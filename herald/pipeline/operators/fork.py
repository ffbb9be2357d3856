"""``fork``: every element goes down each branch; what the branches produce is merged,
tagged with the branch's name. ``join`` groups tagged elements by key within a window."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from herald.pipeline.aggregates import Aggregate
from herald.pipeline.operators.base import Context, Element, Operator
from herald.pipeline.operators.chain import Chain
from herald.pipeline.windows import Window, WindowSpec

if TYPE_CHECKING:
    from herald.pipeline.flow import Flow


class Fork(Operator):
    kind = "fork"
    is_async = True

    def __init__(self, branches: Mapping[str, Flow]) -> None:
        super().__init__()
        if not branches:
            raise ValueError("fork needs at least one branch")
        self.flows = dict(branches)
        self.chains: dict[str, Chain] = {}

    def bind(self, op_id: str, ctx: Context) -> None:
        super().bind(op_id, ctx)
        self.chains = {
            name: Chain(flow.build(), f"{op_id}/{name}/", ctx) for name, flow in self.flows.items()
        }

    @staticmethod
    def _tag(name: str, els: list[Element]) -> list[Element]:
        for el in els:
            el.tag = name
        return els

    async def apush(self, el: Element, now: float) -> list[Element]:
        out: list[Element] = []
        for name, chain in self.chains.items():
            copy = Element(el.value, el.time, f"{el.origin}/{name}", name, el.source)
            out.extend(self._tag(name, await chain.feed(0, [copy], now)))
        return out

    async def aadvance(self, now: float, watermark: float | None) -> list[Element]:
        out: list[Element] = []
        for name, chain in self.chains.items():
            out.extend(self._tag(name, await chain.advance(now, watermark)))
        return out

    async def aflush(self, now: float) -> list[Element]:
        out: list[Element] = []
        for name, chain in self.chains.items():
            out.extend(self._tag(name, await chain.flush(now)))
        return out

    def deadline(self) -> float | None:
        times = [t for t in (c.deadline() for c in self.chains.values()) if t is not None]
        return min(times) if times else None

    def snapshot(self) -> Any:
        return {name: chain.snapshot() for name, chain in self.chains.items()}

    def restore(self, state: Any) -> None:
        state = state or {}
        for name, chain in self.chains.items():
            chain.restore(state.get(name) or {})

    def adopt_metrics(self, other: Operator) -> None:
        super().adopt_metrics(other)
        if isinstance(other, Fork):
            for name, chain in self.chains.items():
                chain.adopt_metrics(other.chains[name])

    def all_metrics(self) -> dict[str, dict[str, float]]:
        merged = super().all_metrics()
        for chain in self.chains.values():
            merged.update(chain.metrics())
        return merged


def _join_aggregate(branches: Sequence[str] | None, how: str) -> Aggregate:
    def add(acc: dict[str, list[Any]], pair: list[Any]) -> dict[str, list[Any]]:
        tag, value = pair
        return {**acc, tag: [*acc.get(tag, []), value]}

    def result(acc: dict[str, list[Any]]) -> dict[str, list[Any]] | None:
        if how == "inner":
            wanted = branches if branches is not None else ()
            if any(name not in acc for name in wanted) or len(acc) < 2:
                return None
        return acc

    return Aggregate("join", dict, add, result, skip_none=True)


class Join(Window):
    """Per key and window: ``{key, start, end, value: {branch: [values...]}}``.

    ``how="inner"`` emits only windows where every branch (or, without names, at least two)
    had a value; ``"outer"`` emits every window that had any.
    """

    kind = "join"

    def __init__(
        self,
        spec: WindowSpec,
        key: Callable[[Any], Any],
        how: str = "inner",
        branches: Sequence[str] | None = None,
    ) -> None:
        if how not in ("inner", "outer"):
            raise ValueError("join how is 'inner' or 'outer'")
        super().__init__(spec, _join_aggregate(branches, how), key)

    def _value(self, el: Element) -> Any:
        return [el.tag or "", el.value]
