"""gRPC fan-out: deliveries/s from one ``herald serve`` (pinned to one core) to N gRPC
subscribers, beside herald's Socket.IO to N clients on the same server.

Each subscriber is its own ``Subscribe`` call on its own connection (a load-client process
of :mod:`bench.grpcload`); the Socket.IO clients are :mod:`bench.loadclient`'s. The two
pools take turns on the same server (one connected at a time, so neither's deliveries
cost the other), with the same bursts from the same producer process as :mod:`.fanout`.
"""

from __future__ import annotations

import os
from typing import Any

from bench import wire
from bench.common import CLIENT_CORE, Options, median, progress, record
from bench.pool import ClientPool
from bench.procs import Child, Children, free_port, pinned, python_module
from bench.scenarios.fanout import _herald_round, burst_size
from bench.servers import start_herald

NAME = "grpc_fanout"


#: The transports measured: herald's Socket.IO, and gRPC with one event per reply and with
#: ``max_batch`` 32 (events waiting together go as one reply).
TRANSPORTS = (("socketio", 0), ("grpc", 0), ("grpc_batch32", 32))


class GrpcPool(ClientPool):
    """``count`` gRPC subscriptions in one :mod:`bench.grpcload` process."""

    def __init__(self, children: Children, url: str, count: int, max_batch: int) -> None:
        super().__init__(children, url, "grpc", count)
        self.max_batch = max_batch

    async def start(self, timeout: float = 180.0) -> int:
        args = (self.url, str(self.max_batch), str(self.count))
        argv = pinned(CLIENT_CORE, python_module("bench.grpcload", *args))
        self.procs.append(
            await self.children.start(f"grpc x{self.count}", argv, control=True, quiet=False)
        )
        replies = [await p.receive(timeout) for p in self.procs]
        self.connected = sum(int(r["ready"]) for r in replies)
        return self.connected


async def _rounds(
    pool: ClientPool, producer: Child, n: int, rounds: int, label: str
) -> list[dict[str, Any]]:
    out = []
    for r in range(rounds):
        progress(NAME, f"{label}: round {r + 1}/{rounds}, burst of {n}")
        out.append(await _herald_round(pool, producer, n))
    return out


async def run(opts: Options) -> dict[str, Any]:
    sizes = [100] if opts.quick else [100, 1000]
    rounds = 1 if opts.quick else 3
    deliveries = 20_000 if opts.quick else 100_000
    prefix = opts.prefix(NAME)
    results: dict[str, Any] = {"rows": [], "rounds": rounds}
    grpc_port = free_port()
    async with Children() as children:
        progress(NAME, "starting herald serve --no-worker (with gRPC) and the producer")
        _, herald = await start_herald(children, opts, prefix, HERALD_GRPC_PORT=str(grpc_port))
        producer = await children.start(
            "producer",
            pinned(CLIENT_CORE, python_module("bench.producer", opts.redis_url, prefix)),
            control=True,
        )
        await producer.receive(30)
        for clients in sizes:
            n = burst_size(clients, deliveries)
            row: dict[str, Any] = {"clients": clients, "burst": n}
            for transport, max_batch in TRANSPORTS:
                progress(NAME, f"{transport}: connecting {clients} clients")
                pool: ClientPool
                if transport != "socketio":
                    pool = GrpcPool(children, f"127.0.0.1:{grpc_port}", clients, max_batch)
                else:
                    pool = ClientPool(children, wire.endpoint(herald, "eio"), "eio", clients)
                await pool.start()
                runs = await _rounds(pool, producer, n, rounds, f"{transport} x{clients}")
                row[transport] = {
                    "connected": pool.connected,
                    "runs": runs,
                    "median": median([x["per_second"] for x in runs]),
                    "client_cpu": median([x["client_cpu"] for x in runs]),
                    "cut": sum(x["disconnected"] for x in runs),
                }
                await pool.stop()
            sio_median = row["socketio"]["median"]
            for transport in ("grpc", "grpc_batch32"):
                mine = row[transport]["median"]
                row[transport]["ratio"] = round(mine / sio_median, 3) if sio_median else None
            progress(
                NAME,
                f"x{clients}: gRPC {row['grpc']['median']}/s, batched "
                f"{row['grpc_batch32']['median']}/s, Socket.IO {sio_median}/s",
            )
            results["rows"].append(row)
    results["load"] = [round(x, 2) for x in os.getloadavg()]
    record(opts, NAME, results)
    return results
