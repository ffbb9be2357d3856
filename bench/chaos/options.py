"""How a chaos run is sized and where it writes; what every scenario returns."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chaos.tally import Row
from bench.common import DEFAULT_RESULTS, REDIS_URL


@dataclass
class ChaosOptions:
    """``quick`` bounds every scenario for CI; ``broken`` adds a client that drops one event
    (the harness's own check: it must be reported as lost)."""

    quick: bool = False
    results_dir: Path = DEFAULT_RESULTS
    redis_url: str = REDIS_URL
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    broken: bool = False
    node: bool = True
    seed: int = 7
    sizes: dict[str, Any] = field(default_factory=dict)  # per-scenario overrides (tests)

    def prefix(self, scenario: str) -> str:
        return f"herald-chaos-{self.run_id}-{scenario}"

    def size(self, name: str, quick: Any, full: Any) -> Any:
        """A scenario's parameter: an override, else its quick or its full value."""
        return self.sizes.get(name, quick if self.quick else full)


def outcome(
    rows: list[Row], params: dict[str, Any], notes: list[str] | None = None
) -> dict[str, Any]:
    """A scenario's results: rows, parameters, and ``ok`` (every row 0 lost / 0 twice)."""
    return {
        "ok": all(r.ok for r in rows) and bool(rows),
        "rows": [r.as_dict() for r in rows],
        "params": params,
        "notes": notes or [],
    }
