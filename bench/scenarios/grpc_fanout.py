"""gRPC fan-out: deliveries/s from one ``herald serve`` (pinned to one core) to N gRPC
subscribers, beside herald's Socket.IO to N clients on the same server, and beside a bare
grpcio server streaming the same replies (:mod:`bench.grpcpeer`, the floor of what
Python's gRPC costs per message).

Each subscriber is its own ``Subscribe`` call on its own connection (a load-client process
of :mod:`bench.grpcload`); the Socket.IO clients are :mod:`bench.loadclient`'s. herald's
pools take turns on the same server; herald and the peer hold their gRPC subscribers at
once and alternate rounds, as :mod:`.fanout` pairs its servers. The bursts and the
producer process are :mod:`.fanout`'s.
"""

from __future__ import annotations

import os
import time
from typing import Any

from bench import wire
from bench.common import CLIENT_CORE, SERVER_CORE, Options, median, progress, record
from bench.grpcpeer import trigger
from bench.pool import ClientPool
from bench.procs import Child, Children, free_port, pinned, python_module
from bench.scenarios.fanout import _herald_round, _rate, burst_size
from bench.servers import event_file, start_herald

NAME = "grpc_fanout"
#: gRPC with one event per reply, and with ``max_batch`` 32 (events waiting together go
#: as one reply).
GRPC_KINDS = (("grpc", 0), ("grpc_batch32", 32))


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


async def _peer_round(pool: ClientPool, target: str, n: int) -> dict[str, Any]:
    await pool.reset()
    t0 = time.time()
    await trigger(target, n)
    got = await pool.wait(n, timeout=90, idle=5)
    return _rate(got, t0, pool.connected * n)


async def _start_peer(children: Children, opts: Options, max_batch: int) -> str:
    port = free_port()
    body = event_file(opts.results_dir)
    argv = pinned(
        SERVER_CORE, python_module("bench.grpcpeer", str(port), str(body), str(max_batch))
    )
    peer = await children.start(f"grpc peer (batch {max_batch})", argv, control=True)
    await peer.receive(30)
    return f"127.0.0.1:{port}"


async def _socketio(
    children: Children, herald: str, producer: Child, clients: int, n: int, rounds: int
) -> dict[str, Any]:
    pool = ClientPool(children, wire.endpoint(herald, "eio"), "eio", clients)
    await pool.start()
    runs = []
    for r in range(rounds):
        progress(NAME, f"socketio x{clients}: round {r + 1}/{rounds}, burst of {n}")
        runs.append(await _herald_round(pool, producer, n))
    await pool.stop()
    return _summary(pool, runs, [])


def _summary(
    pool: ClientPool, runs: list[dict[str, Any]], peer: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "connected": pool.connected,
        "runs": runs,
        "median": median([x["per_second"] for x in runs]),
        "client_cpu": median([x["client_cpu"] for x in runs]),
        "cut": sum(x["disconnected"] for x in runs),
        "peer": peer,
        "peer_median": median([x["per_second"] for x in peer]),
        "peer_ratios": [
            round(a["per_second"] / b["per_second"], 3)
            for a, b in zip(runs, peer, strict=False)
            if b["per_second"]
        ],
    }


async def _grpc(
    children: Children,
    targets: tuple[str, str],
    producer: Child,
    clients: int,
    n: int,
    rounds: int,
    kind: tuple[str, int],
) -> dict[str, Any]:
    label, max_batch = kind
    ours = GrpcPool(children, targets[0], clients, max_batch)
    theirs = GrpcPool(children, targets[1], clients, max_batch)
    await ours.start()
    await theirs.start()
    runs, peer = [], []
    for r in range(rounds):
        progress(NAME, f"{label} x{clients}: round {r + 1}/{rounds}, burst of {n}")
        runs.append(await _herald_round(ours, producer, n))
        peer.append(await _peer_round(theirs, targets[1], n))
    await ours.stop()
    await theirs.stop()
    out = _summary(ours, runs, peer)
    out["peer_ratio_median"] = median(out["peer_ratios"])
    return out


async def run(opts: Options) -> dict[str, Any]:
    sizes = [100] if opts.quick else [100, 1000]
    rounds = 1 if opts.quick else 3
    deliveries = 20_000 if opts.quick else 100_000
    prefix = opts.prefix(NAME)
    results: dict[str, Any] = {"rows": [], "rounds": rounds}
    grpc_port = free_port()
    async with Children() as children:
        progress(NAME, "starting herald serve --no-worker (with gRPC), the peers, the producer")
        _, herald = await start_herald(children, opts, prefix, HERALD_GRPC_PORT=str(grpc_port))
        peers = {mb: await _start_peer(children, opts, mb) for _, mb in GRPC_KINDS}
        producer = await children.start(
            "producer",
            pinned(CLIENT_CORE, python_module("bench.producer", opts.redis_url, prefix)),
            control=True,
        )
        await producer.receive(30)
        for clients in sizes:
            n = burst_size(clients, deliveries)
            row: dict[str, Any] = {"clients": clients, "burst": n}
            row["socketio"] = await _socketio(children, herald, producer, clients, n, rounds)
            sio_median = row["socketio"]["median"]
            for kind in GRPC_KINDS:
                targets = (f"127.0.0.1:{grpc_port}", peers[kind[1]])
                cell = await _grpc(children, targets, producer, clients, n, rounds, kind)
                cell["ratio"] = round(cell["median"] / sio_median, 3) if sio_median else None
                row[kind[0]] = cell
                progress(
                    NAME,
                    f"{kind[0]} x{clients}: herald {cell['median']}/s, "
                    f"bare grpcio {cell['peer_median']}/s, Socket.IO {sio_median}/s",
                )
            results["rows"].append(row)
    results["load"] = [round(x, 2) for x in os.getloadavg()]
    record(opts, NAME, results)
    return results
