"""X's web GraphQL operations, read from ``operations.json``.

X rotates query ids and adds required feature flags every few weeks. Keeping them in a data
file means a fix is an edit of that file, not a code change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from herald.errors import ConfigError

DATA_FILE = "operations.json"


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    query_id: str
    variables: dict[str, Any] = field(default_factory=dict)
    features: dict[str, bool] = field(default_factory=dict)
    field_toggles: dict[str, bool] = field(default_factory=dict)
    send_features: bool = True
    """False for mutations the web app POSTs without ``features`` (FavoriteTweet...)."""

    @property
    def path(self) -> str:
        return f"/i/api/graphql/{self.query_id}/{self.name}"


@dataclass(frozen=True, slots=True)
class Operations:
    bearer: str
    operations: dict[str, Operation]

    def __getitem__(self, name: str) -> Operation:
        try:
            return self.operations[name]
        except KeyError as exc:
            raise ConfigError(f"X operation {name!r} is missing from {DATA_FILE}") from exc


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{DATA_FILE}: {where} must be an object")
    return value


def parse_operations(doc: Any) -> Operations:
    """Validate the file's shape; each operation's features are the shared ones plus its own."""
    root = _dict(doc, "the document")
    bearer = root.get("bearer")
    if not isinstance(bearer, str) or not bearer:
        raise ConfigError(f"{DATA_FILE}: bearer must be a non-empty string")
    shared = _dict(root.get("features", {}), "features")
    operations: dict[str, Operation] = {}
    for name, raw in _dict(root.get("operations"), "operations").items():
        spec = _dict(raw, f"operations.{name}")
        query_id = spec.get("queryId")
        if not isinstance(query_id, str) or not query_id:
            raise ConfigError(f"{DATA_FILE}: operations.{name}.queryId must be a string")
        operations[name] = Operation(
            name=name,
            query_id=query_id,
            variables=dict(_dict(spec.get("variables", {}), f"operations.{name}.variables")),
            features={**shared, **_dict(spec.get("features", {}), f"operations.{name}.features")},
            field_toggles=dict(_dict(spec.get("fieldToggles", {}), f"{name}.fieldToggles")),
            send_features=spec.get("sendFeatures", True) is not False,
        )
    return Operations(bearer=bearer.removeprefix("Bearer ").strip(), operations=operations)


def load_operations(path: Path | None = None) -> Operations:
    """The packaged operations, or those of ``path`` (e.g. a newer file under test)."""
    if path is not None:
        return parse_operations(json.loads(path.read_text()))
    return _packaged()


@cache
def _packaged() -> Operations:
    text = resources.files("herald.sources.x").joinpath(DATA_FILE).read_text()
    return parse_operations(json.loads(text))
