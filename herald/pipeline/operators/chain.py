"""A chain of operators: feeds elements through in order and moves time along it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from herald.pipeline.operators.base import Context, Element, Operator, timed


class Chain:
    """Operators in a row. What leaves the last one is returned to the caller."""

    def __init__(self, ops: Sequence[Operator], prefix: str, ctx: Context) -> None:
        self.ops = list(ops)
        self.ctx = ctx
        for index, op in enumerate(self.ops):
            op.bind(f"{prefix}{index}.{op.kind}", ctx)

    async def feed(self, start: int, els: list[Element], now: float) -> list[Element]:
        """Push ``els`` (all at time ``now``) into operator ``start`` and on down the chain."""
        return await self.feed_many(start, els, [now] * len(els))

    async def feed_many(self, start: int, els: list[Element], nows: list[float]) -> list[Element]:
        """Push ``els``, each at its own ``now``, through the chain one operator at a time.

        Every operator sees its elements in the same order as if each element had gone
        all the way down before the next, so the outputs are the same; going operator by
        operator costs one timing and one loop per operator per batch instead of per item.
        """
        for op in self.ops[start:]:
            metrics = op.metrics
            metrics.in_ += len(els)
            began = timed()
            nxt: list[Element] = []
            nxt_nows: list[float] = []
            if op.is_async:
                for el, now in zip(els, nows, strict=True):
                    out = await op.apush(el, now)
                    nxt.extend(out)
                    nxt_nows.extend([now] * len(out))
            else:
                push = op.push
                for el, now in zip(els, nows, strict=True):
                    out = push(el, now)
                    if out:
                        nxt.extend(out)
                        nxt_nows.extend([now] * len(out))
            metrics.observe(timed() - began)
            metrics.out += len(nxt)
            els, nows = nxt, nxt_nows
            if not els:
                break
        return els

    async def advance(self, now: float, watermark: float | None) -> list[Element]:
        """Tell every operator the time, in order, so what one releases reaches the next."""
        done: list[Element] = []
        for index, op in enumerate(self.ops):
            released = (
                await op.aadvance(now, watermark) if op.is_async else op.advance(now, watermark)
            )
            if released:
                op.metrics.out += len(released)
                done.extend(await self.feed(index + 1, released, now))
        return done

    async def flush(self, now: float) -> list[Element]:
        done: list[Element] = []
        for index, op in enumerate(self.ops):
            released = await op.aflush(now) if op.is_async else op.flush()
            if released:
                op.metrics.out += len(released)
                done.extend(await self.feed(index + 1, released, now))
        return done

    def deadline(self) -> float | None:
        times = [t for t in (op.deadline() for op in self.ops) if t is not None]
        return min(times) if times else None

    def snapshot(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for op in self.ops:
            value = op.snapshot()
            if value is not None:
                state[op.id] = value
        return state

    def restore(self, state: dict[str, Any]) -> None:
        for op in self.ops:
            op.restore(state.get(op.id))

    def adopt_metrics(self, other: Chain) -> None:
        """Keep counting where ``other`` (the same flow, replaced on restore) left off."""
        for mine, theirs in zip(self.ops, other.ops, strict=True):
            mine.adopt_metrics(theirs)

    def ids(self) -> list[str]:
        """Every operator id, nested ones included: the shape a snapshot must match."""
        found: list[str] = []
        for op in self.ops:
            found.extend(op.all_metrics())
        return found

    def metrics(self) -> dict[str, dict[str, float]]:
        merged: dict[str, dict[str, float]] = {}
        for op in self.ops:
            merged.update(op.all_metrics())
        return merged
