"""What REST, the CLI and MCP do with pipelines: list, status, pause, resume, replay.

It works from what is in Redis (every process that runs a pipeline declares it there), so
an API server shows and steers pipelines that run in other processes. A dry-run replay
needs the pipeline's code, so it runs only where the pipeline is declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from herald.errors import HeraldError, NotFound, ValidationError
from herald.pipeline.runtime.replay import dry_run, parse_bound
from herald.pipeline.runtime.spec import PipelineSpec
from herald.store.pipelines import PipelineStore
from herald.store.streams import iso

MAX_REPLAY_OUTPUTS = 1000


class NotRunHere(HeraldError):
    code = "pipeline_not_declared_here"
    status = 409


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "", b"") else None
    except (TypeError, ValueError):
        return None


class PipelineControl:
    def __init__(
        self, store: PipelineStore, specs: Mapping[str, PipelineSpec] | None = None
    ) -> None:
        self._store = store
        self._specs = dict(specs or {})

    async def _declaration(self, name: str) -> dict[str, Any]:
        declared = await self._store.declared()
        if name not in declared:
            raise NotFound(f"no pipeline named {name[:64]!r}")
        return declared[name]

    async def require(self, name: str) -> None:
        """:class:`NotFound` unless ``name`` is a declared pipeline."""
        await self._declaration(name)

    async def names(self) -> list[str]:
        return sorted(await self._store.declared())

    async def list(self) -> list[dict[str, Any]]:
        return [await self.status(name, dead_letters=0) for name in await self.names()]

    async def status(self, name: str, *, dead_letters: int = 20) -> dict[str, Any]:
        """Lag, rates, errors, state size, dead letters, owner."""
        declaration = await self._declaration(name)
        store = self._store
        committed = await store.load(name)
        raw = await store.raw_state(name)
        group = await store.group_info(name)
        paused = committed.paused
        error = raw.get("error") or None
        lag_error = raw.get("lagError") or None
        answer: dict[str, Any] = {
            "name": name,
            "declaration": declaration,
            "status": "error"
            if error
            else "paused"
            if paused
            else "lagging"
            if lag_error
            else "running",
            "paused": paused,
            "pausedReason": raw.get("pausedReason") or None,
            "error": error,
            "lagError": lag_error,
            "lastFailure": raw.get("lastFailure") or None,
            "owner": await store.owner(name),
            "offset": committed.offset,
            "lag": group.lag if group else None,
            "pending": group.pending if group else 0,
            "counters": committed.counters,
            "rates": {
                "in": _float(raw.get("rateIn")) or 0.0,
                "out": _float(raw.get("rateOut")) or 0.0,
            },
            "late": int(raw.get("late") or 0),
            "watermark": iso(_float(raw.get("watermark"))),
            "stateSize": await store.state_size(name),
            "deadLetters": await store.dead_count(name),
            "committedAt": iso(committed.committed_at),
            "metrics": orjson.loads(raw["metrics"]) if raw.get("metrics") else {},
        }
        if dead_letters:
            answer["recentDeadLetters"] = await store.dead_letters(name, dead_letters)
        return answer

    async def pause(self, name: str) -> dict[str, Any]:
        await self._declaration(name)
        await self._store.set_paused(name, True, "paused by request")
        return await self.status(name, dead_letters=0)

    async def resume(self, name: str) -> dict[str, Any]:
        """Run again; after a state error the owner tries the state again (never resets it)."""
        await self._declaration(name)
        await self._store.set_paused(name, False)
        return await self.status(name, dead_letters=0)

    async def replay(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``{deadLetters: true}``: send the dead letters back through the pipeline.
        ``{from, to?, limit?}``: run the pipeline's code fresh over that part of the log and
        answer its outputs (nothing is appended). ``{from, reset: true}``: drop the state and
        make the running pipeline read again from ``from`` (the way out of a state error)."""
        await self._declaration(name)
        unknown = sorted(set(body) - {"deadLetters", "from", "to", "limit", "reset"})
        if unknown:
            raise ValidationError(f"{unknown[0][:64]} is not a known field")
        if body.get("deadLetters"):
            moved = await self._store.requeue_dead(name)
            return {"name": name, "requeued": moved}
        if body.get("from") is None:
            raise ValidationError("from is required (a log offset or a time), or deadLetters: true")
        start = parse_bound(body["from"], "from", end=False)
        if body.get("reset"):
            await self._store.reset(name, _before(start))
            return {"name": name, "reset": True, "from": start}
        end = parse_bound(body.get("to"), "to", end=True) if body.get("to") is not None else "+"
        limit = body.get("limit", MAX_REPLAY_OUTPUTS)
        if (
            isinstance(limit, bool)
            or not isinstance(limit, int)
            or not 1 <= limit <= MAX_REPLAY_OUTPUTS
        ):
            raise ValidationError(f"limit must be a whole number from 1 to {MAX_REPLAY_OUTPUTS}")
        spec = self._specs.get(name)
        if spec is None:
            raise NotRunHere(
                f"pipeline {name!r} is not declared in this process (HERALD_PIPELINES); "
                "a dry run needs its code"
            )
        outputs, read = await dry_run(self._store, spec, start, end)
        return {
            "name": name,
            "from": start,
            "to": end,
            "read": read,
            "outputs": [
                {"key": o.key, "output": o.name, "data": dict(o.data), "time": o.time}
                for o in outputs[:limit]
            ],
            "truncated": len(outputs) > limit,
        }


def _before(offset: str) -> str:
    """The id just before ``offset``: XGROUP SETID delivers what comes after it."""
    ms, _, seq = offset.partition("-")
    if int(seq or 0) > 0:
        return f"{ms}-{int(seq) - 1}"
    return f"{int(ms) - 1}-18446744073709551615" if int(ms) > 0 else "0-0"
