"""What every transport shares: settings, Redis, the log reader, the hub, the tail, auth and
the limiter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from herald.auth import Authenticator
from herald.commands.base import CommandsService
from herald.commands.entry import COMMAND_BURST, COMMAND_RATE
from herald.config import Settings
from herald.delivery.connections import ConnectionRegistry
from herald.delivery.hub import Hub
from herald.delivery.outcomes import CommandOutcomes
from herald.delivery.tail import LogTail
from herald.pipeline.clock import Clock, SystemClock
from herald.ratelimit import TokenBucket
from herald.store.logreader import LogReader


@dataclass(eq=False)
class Context:
    settings: Settings
    redis: Redis
    #: Every read of the global log (replay, resume checks) goes through it.
    log: LogReader
    hub: Hub
    tail: LogTail
    auth: Authenticator
    limiter: TokenBucket
    #: Open WebSocket connections and SSE responses, for counting and shutdown.
    ws_connections: set[Any] = field(default_factory=set)
    sse_streams: set[Any] = field(default_factory=set)
    #: Paces replay subscriptions (a virtual clock in tests).
    clock: Clock = field(default_factory=SystemClock)
    #: Every live connection (all transports): the caps, and ``GET /api/connections``.
    connections: ConnectionRegistry = field(init=False)
    #: X write commands sent over ``/ws`` and Socket.IO (``None``: refused as unavailable).
    commands: CommandsService | None = None
    #: Commands still running for connections that went away: held until they finish.
    command_tasks: set[Any] = field(default_factory=set)
    #: ``/ws`` commands waiting for their outcome event on this node's tail.
    command_outcomes: CommandOutcomes = field(default_factory=CommandOutcomes)
    #: Commands per client (``/ws`` and Socket.IO), apart from the subscribe limit.
    command_limiter: TokenBucket = field(
        default_factory=lambda: TokenBucket(COMMAND_RATE, COMMAND_BURST)
    )

    def __post_init__(self) -> None:
        s = self.settings
        self.connections = ConnectionRegistry(s.max_connections, s.max_connections_per_address)
