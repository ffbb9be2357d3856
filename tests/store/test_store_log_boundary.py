"""Every read of the global log goes through ``herald.store``: no module outside it issues
``XREAD``, ``XRANGE``, ``XREVRANGE`` or ``XINFO`` (found with ``ast``, not by importing)."""

from __future__ import annotations

import ast
from pathlib import Path

HERALD = Path(__file__).resolve().parents[2] / "herald"
STORE = HERALD / "store"
READS = frozenset({"xread", "xreadgroup", "xrange", "xrevrange", "xinfo_stream"})


def log_reads(source: str) -> list[tuple[int, str]]:
    """``(line, what)`` of every stream read: a client method, or the command by name."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr.lower() in READS:
            found.append((node.lineno, func.attr))
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                word = arg.value.split(" ")[0].lower()
                if word in READS or arg.value.lower().startswith("xinfo"):
                    found.append((node.lineno, arg.value))
    return found


def test_only_the_store_reads_the_log() -> None:
    offenders = []
    for path in sorted(HERALD.rglob("*.py")):
        if STORE in path.parents:
            continue
        for line, what in log_reads(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(HERALD.parent)}:{line}: {what}")
    assert not offenders, "read the log through herald.store.logreader:\n" + "\n".join(offenders)


def test_the_check_finds_each_kind_of_read() -> None:
    source = (
        "async def f(r, k):\n"
        "    await r.xread({k: '0'}, block=1)\n"
        "    await r.xrevrange(k, count=1)\n"
        "    await r.execute_command('XRANGE', k, '-', '+')\n"
        "    await r.xinfo_stream(k)\n"
    )
    assert [line for line, _ in log_reads(source)] == [2, 3, 4, 5]
    assert log_reads((STORE / "logreader.py").read_text(encoding="utf-8"))
