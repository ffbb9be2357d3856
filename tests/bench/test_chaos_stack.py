"""The chaos stack's start-up wait: a line, an early exit, and a caller cancelled mid-wait."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bench.chaos.stack import Proc, _wait_line


async def _proc(tmp_path: Path, code: str) -> Proc:
    return await Proc.start("probe", [sys.executable, "-c", code], {}, tmp_path / "probe.log")


def _line_waits() -> list[asyncio.Task[object]]:
    return [
        t
        for t in asyncio.all_tasks()
        if not t.done() and getattr(t.get_coro(), "__qualname__", "") == "Proc.wait_line"
    ]


async def test_the_awaited_line_ends_the_wait(tmp_path: Path) -> None:
    proc = await _proc(
        tmp_path, "import sys, time; print('ready', file=sys.stderr); time.sleep(30)"
    )
    try:
        await _wait_line(proc, "ready", 30)
        assert not _line_waits()
    finally:
        await proc.kill9()


async def test_an_exit_before_the_line_is_the_error(tmp_path: Path) -> None:
    proc = await _proc(tmp_path, "raise SystemExit(3)")
    with pytest.raises(RuntimeError, match=r"probe exited early \(code 3\)"):
        await _wait_line(proc, "ready", 30)
    assert not _line_waits()
    await proc.kill9()


async def test_a_cancelled_caller_leaves_no_wait_behind(tmp_path: Path) -> None:
    """A killer task stopped while it starts a worker: the line-wait must end with it, not
    time out later with nobody to read its error."""
    proc = await _proc(tmp_path, "import time; time.sleep(30)")
    try:
        caller = asyncio.create_task(_wait_line(proc, "never said", 30))
        async with asyncio.timeout(10):
            while not _line_waits():
                await asyncio.sleep(0)  # let the caller start its wait
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert not _line_waits()
    finally:
        await proc.kill9()
