"""Waiting for a command's outcome as its event passes this node's log tail.

A ``/ws`` command is recorded first (so ``started`` can say so) and run by the service;
its outcome event (``command:succeeded | failed | uncertain``, ``correlationId`` = the
command id) reaches every node through the one log tail, so the connection learns the
outcome the moment it is logged instead of asking the store again and again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from herald.delivery.entry import Entry

FINAL = frozenset({"command:succeeded", "command:failed", "command:uncertain"})


class CommandOutcomes:
    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Future[None]]] = {}

    def dispatch(self, batch: list[Entry]) -> None:
        """Called with every batch the tail reads; cheap when nobody waits."""
        if not self._waiting:
            return
        for entry in batch:
            if entry.type not in FINAL:
                continue
            command_id = entry.body.get("correlationId")
            for future in self._waiting.get(str(command_id), ()):
                if not future.done():
                    future.set_result(None)

    @contextmanager
    def watch(self, command_id: str) -> Iterator[asyncio.Future[None]]:
        """A future done once the command's outcome is logged; watch before submitting,
        so an outcome logged at once is not missed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = self._waiting.setdefault(command_id, set())
        waiting.add(future)
        try:
            yield future
        finally:
            waiting.discard(future)
            if not waiting:
                self._waiting.pop(command_id, None)
            future.cancel()
