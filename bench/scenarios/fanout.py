"""Fan-out: deliveries/s from one server process (pinned to one core) to N clients.

herald's Socket.IO is measured against Node's socket.io 4, and herald's ``/ws`` against a
bare ``websockets.broadcast`` server, side by side in the same run: both servers of a pair
hold their N clients at once and take turns, so every round gives one herald/peer ratio.
A round is a burst of B events (B·N ≈ a fixed number of deliveries); deliveries/s is what
the clients received divided by the time from the first append (or the peer's trigger) to
the last receive. herald's events are appended to the log by a separate producer process.
"""

from __future__ import annotations

import time
from typing import Any

from bench import wire
from bench.common import CLIENT_CORE, Options, median, progress, record
from bench.pool import ClientPool
from bench.procs import Child, Children, pinned, python_module
from bench.servers import node_missing, peer_burst, start_herald, start_node, start_wsbroadcast

NAME = "fanout"
GOALS = {"socketio": 1.0, "ws": 0.9}


def burst_size(clients: int, deliveries: int) -> int:
    """Events per burst: enough deliveries to time, never past herald's per-client cap."""
    return max(20, min(500, deliveries // clients))


async def _herald_round(pool: ClientPool, producer: Child, n: int) -> dict[str, Any]:
    await pool.reset()
    sent = await producer.ask({"cmd": "burst", "n": n, "batch": 100}, 60)
    got = await pool.wait(n, timeout=90, idle=5)
    return _rate(got, sent["t0"], pool.connected * n)


async def _peer_round(pool: ClientPool, base: str, n: int) -> dict[str, Any]:
    await pool.reset()
    t0 = time.time()
    await peer_burst(base, n)
    got = await pool.wait(n, timeout=90, idle=5)
    return _rate(got, t0, pool.connected * n)


def _rate(got: dict[str, Any], t0: float, expected: int) -> dict[str, Any]:
    span = (got["last"] - t0) if got["last"] else None
    return {
        "delivered": got["total"],
        "expected": expected,
        "seconds": round(span, 4) if span else None,
        "per_second": round(got["total"] / span) if span else 0,
        "disconnected": got["closed"],
        "client_cpu": round(got["client_cpu"], 3),
    }


async def run(opts: Options) -> dict[str, Any]:
    sizes = [100] if opts.quick else [100, 1000, 5000]
    rounds = 1 if opts.quick else 3
    deliveries = 20_000 if opts.quick else 100_000
    prefix = opts.prefix(NAME)
    results: dict[str, Any] = {"rows": [], "rounds": rounds, "skipped": {}}
    no_node = node_missing()
    if no_node:
        results["skipped"]["node"] = no_node
        progress(NAME, f"Node peer skipped: {no_node}")
    async with Children() as children:
        progress(NAME, "starting herald serve --no-worker, the peers and the producer")
        _, herald = await start_herald(children, opts, prefix)
        peers: dict[str, str | None] = {
            "ws": (await start_wsbroadcast(children, opts.results_dir))[1]
        }
        peers["socketio"] = None if no_node else (await start_node(children, opts.results_dir))[1]
        producer = await children.start(
            "producer",
            pinned(CLIENT_CORE, python_module("bench.producer", opts.redis_url, prefix)),
            control=True,
        )
        await producer.receive(30)
        for transport, herald_kind, peer_kind in (("socketio", "eio", "eio"), ("ws", "ws", "raw")):
            for clients in sizes:
                n = burst_size(clients, deliveries)
                progress(NAME, f"{transport}: connecting {clients} clients to each server")
                ours = ClientPool(
                    children, wire.endpoint(herald, herald_kind), herald_kind, clients
                )
                await ours.start()
                peer_base = peers[transport]
                theirs = None
                if peer_base is not None:
                    theirs = ClientPool(
                        children, wire.endpoint(peer_base, peer_kind), peer_kind, clients
                    )
                    await theirs.start()
                row: dict[str, Any] = {
                    "transport": transport,
                    "clients": clients,
                    "connected": ours.connected,
                    "burst": n,
                    "herald": [],
                    "peer": [],
                    "ratios": [],
                }
                for r in range(rounds):
                    progress(NAME, f"{transport} x{clients}: round {r + 1}/{rounds}, burst of {n}")
                    mine = await _herald_round(ours, producer, n)
                    row["herald"].append(mine)
                    if theirs is not None and peer_base is not None:
                        other = await _peer_round(theirs, peer_base, n)
                        row["peer"].append(other)
                        if other["per_second"]:
                            row["ratios"].append(round(mine["per_second"] / other["per_second"], 3))
                row["herald_median"] = median([x["per_second"] for x in row["herald"]])
                row["peer_median"] = median([x["per_second"] for x in row["peer"]])
                row["ratio_median"] = median(row["ratios"])
                row["goal_ratio"] = GOALS[transport]
                progress(
                    NAME,
                    f"{transport} x{clients}: herald {row['herald_median']}/s, "
                    f"peer {row['peer_median']}/s, ratio {row['ratio_median']}",
                )
                results["rows"].append(row)
                await ours.stop()
                if theirs is not None:
                    await theirs.stop()
    record(opts, NAME, results)
    return results
