"""The engine calls the store only: no Redis client, no key names, no Lua scripts.

Every Redis key and script lives in ``herald/store/`` (issue: "the store owns every key"),
so a module of ``herald/engine/`` that imports ``redis``, names ``Keys`` or registers a
script fails here, with the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "herald" / "engine"
FORBIDDEN_NAMES = {"Keys", "register_script", "pipeline", "Redis"}


def violations(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"{where}:{node.lineno}: imports {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] == "redis"
            ]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] == "redis":
                found.append(f"{where}:{node.lineno}: imports from {module}")
            found += [
                f"{where}:{node.lineno}: imports {alias.name}"
                for alias in node.names
                if alias.name in FORBIDDEN_NAMES
            ]
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append(f"{where}:{node.lineno}: uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            found.append(f"{where}:{node.lineno}: uses .{node.attr}")
    return found


def test_engine_has_no_redis_keys_or_scripts() -> None:
    modules = sorted(ENGINE.glob("*.py"))
    assert len(modules) > 5, f"engine modules not found under {ENGINE}"
    found = [v for path in modules for v in violations(path.read_text(), path.name)]
    assert not found, "the engine must go through the store:\n" + "\n".join(found)


def test_the_check_catches_each_kind() -> None:
    source = (
        "import redis.asyncio\n"
        "from redis.asyncio import Redis\n"
        "from herald.store.keys import Keys\n"
        "x = self._redis.register_script('return 1')\n"
        "async with r.pipeline() as p: pass\n"
    )
    found = violations(source, "m.py")
    assert any("imports redis.asyncio" in v for v in found)
    assert any("imports from redis.asyncio" in v for v in found)
    assert any("imports Keys" in v for v in found)
    assert any(".register_script" in v for v in found)
    assert any(".pipeline" in v for v in found)
