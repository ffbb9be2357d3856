"""Reconnect storms: every client cut at once, again and again, while 200+ events/s flow.

A producer process appends ``stream:tweet:new`` events straight to the log (the events the
poller would append, through ``EventLog.append``), faster than polling could. The clients:
the npm socket.io-client over WebSocket only, default transports (polling, then upgrade)
and polling only, each as the seed's code (never subscribes) and as ``subscribe {since}``;
herald's ``/ws`` with ``since``; SSE with ``Last-Event-ID``. All of them start before the
first event, so each must receive every event after the starting offset exactly once, in
log order. The last event is a sentinel: a client that has it has had every chance to get
the rest.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.chaos.clients import Client, NodeClient, Progress, SseClient, WsClient, node_missing
from bench.chaos.logreader import LogReader
from bench.chaos.options import ChaosOptions, outcome
from bench.chaos.stack import Stack, herald_env
from bench.chaos.tally import delivery, out_of_order_at
from bench.common import CLIENT_CORE, progress
from bench.procs import Children, pinned, python_module

NAME = "storm"
TRANSPORTS = ("websocket", "default", "polling")


def _clients(
    opts: ChaosOptions, base: str, since: str, prog: Progress
) -> tuple[list[Client], list[str]]:
    clients: list[Client] = []
    notes: list[str] = []
    missing = node_missing() if opts.node else "Node clients turned off"
    if missing:
        notes.append(f"npm socket.io-client not run: {missing}")
    else:
        for transports in TRANSPORTS:
            for mode in ("compat", "subscribe"):
                clients.append(NodeClient(prog, base, transports, mode, since))
    clients += [WsClient(prog, base, since), SseClient(prog, base, since)]
    if opts.broken:
        broken = WsClient(prog, base, since, drop_nth=3)
        broken.name = "/ws since (broken on purpose: drops its 3rd event)"
        clients.append(broken)
    return clients, notes


async def _storm(clients: list[Client], every: float, counter: list[int]) -> None:
    """Cut every client at the same moment, every ``every`` seconds (pacing the load)."""
    while True:
        await asyncio.sleep(every)
        await asyncio.gather(*(c.drop() for c in clients))
        counter[0] += 1


async def all_have(prog: Progress, clients: list[Client], offset: str, timeout: float) -> bool:
    """True once every client has received ``offset``; False if ``timeout`` passes first."""
    try:
        async with asyncio.timeout(timeout), prog.changed:
            await prog.changed.wait_for(lambda: all(offset in c.offsets[-50:] for c in clients))
        return True
    except TimeoutError:
        return False


def _context(marks: list[tuple[int, str]], receipt: int) -> str:
    """Where a late receipt fell: how many receipts after each of the last two marks."""
    before = [(n, what) for n, what in marks if n <= receipt][-2:]
    since = "; ".join(f"{receipt - n} receipts after {what}" for n, what in before)
    return f"receipt #{receipt} out of order: {since or 'before any connect'}"


async def run(opts: ChaosOptions) -> dict[str, Any]:
    rate = opts.size("rate", 200, 300)
    seconds = opts.size("seconds", 25, 90)
    every = opts.size("drop_every", 2.0, 2.0)
    settle = opts.size("settle", 15, 30)
    prefix = opts.prefix(NAME)
    env = herald_env(REDIS_URL=opts.redis_url, HERALD_REDIS_PREFIX=prefix)
    prog = Progress()
    storms = [0]
    async with Stack(env) as stack, Children() as children:
        await stack.start_serve("--no-worker")
        reader = LogReader(stack.base)
        since = await reader.start()
        producer = await children.start(
            "producer",
            pinned(CLIENT_CORE, python_module("bench.producer", opts.redis_url, prefix)),
            control=True,
        )
        await producer.receive(30)
        clients, notes = _clients(opts, stack.base, since, prog)
        try:
            for client in clients:
                await client.start()
            try:
                async with asyncio.timeout(30):
                    await asyncio.gather(*(c.ready.wait() for c in clients))
            except TimeoutError:
                names = ", ".join(c.name for c in clients if not c.ready.is_set())
                raise RuntimeError(f"never connected (and subscribed) in 30s: {names}") from None
            progress(NAME, f"{len(clients)} clients ready; {rate} events/s for {seconds}s")
            storm = asyncio.create_task(_storm(clients, every, storms))
            reply = await producer.ask(
                {"cmd": "rate", "rate": rate, "seconds": seconds}, seconds + 60
            )
            storm.cancel()
            sentinel = await producer.ask({"cmd": "one", "seq": 0}, 30)
            total = int(reply["new"]) + int(sentinel["new"])
            await reader.wait_for(lambda events: len(events) >= total, settle)
            expected = [
                str(e["offset"]) for e in reader.events if e.get("type") == "stream:tweet:new"
            ]
            if not await all_have(prog, clients, expected[-1], settle):
                late = [c.name for c in clients if expected[-1] not in c.offsets]
                notes.append(f"never got the last event within {settle}s: {', '.join(late)}")
        finally:
            for client in clients:
                await client.end()
            await reader.close()
    rows = []
    for client in clients:
        row = delivery(client.name, expected, client.offsets)
        row.reconnects = client.reconnects
        if isinstance(client, NodeClient):
            row.resumed = f"{client.recovered} recovered"
        row.notes += [_context(client.marks, i) for i in out_of_order_at(expected, client.offsets)]
        rows.append(row)
    params = {"rate": rate, "seconds": seconds, "drop_every": every, "storms": storms[0],
              "events": len(expected)}  # fmt: skip
    return outcome(rows, params, notes)
