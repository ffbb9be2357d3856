"""The rules, the state machine and the evaluator are pure: nothing they import (directly
or not) imports a Redis client. The store and the pipeline runtime are what talk to Redis.
Read from the source (the package root imports everything, so importing would tell
nothing)."""

from __future__ import annotations

from tests.importgraph import imports_of, modules

PURE = ["herald.alerts.model", "herald.alerts.machine", "herald.alerts.inputs"]
PURE += ["herald.alerts.evaluator"]


def closure(start: list[str]) -> dict[str, set[str]]:
    """Module -> its imports, for every herald module reached from ``start`` (through
    packages' ``__init__`` too, but not the package root, which re-exports everything)."""
    known = modules()
    seen: dict[str, set[str]] = {}
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = imports_of(known[name], name)
        for imported in seen[name]:
            parts = imported.split(".")
            for i in range(2, len(parts) + 1):
                candidate = ".".join(parts[:i])
                if candidate in known and candidate not in seen:
                    todo.append(candidate)
    return seen


def test_the_evaluator_reaches_no_redis_client() -> None:
    seen = closure(PURE)
    assert "herald.pipeline.core" in seen, "the graph is followed"
    talking = sorted(
        m for m, imports in seen.items() if any(i.split(".")[0] == "redis" for i in imports)
    )
    assert talking == []


def test_the_check_can_fail() -> None:
    seen = closure(["herald.alerts.pipeline"])
    talking = [m for m, imports in seen.items() if any(i.split(".")[0] == "redis" for i in imports)]
    assert talking, "the pipeline glue reaches the store, which uses Redis"
