"""Jetstream decode: frames per CPU second one core takes from Bluesky's push source.

Two cases, both on the recorded frames (``bluesky-jetstream/golden_v1.jsonl``) replayed
many times with fresh ``time_us`` and record keys:

- **decode**: the frames already in memory, handed to ``BskySource.decode`` in batches as
  the push runtime hands them; the source's follow map on the bench Redis. Streams: 1,000
  ``bsky:post``, 100 ``bsky:mention``, 100 ``bsky:follower`` and 10 ``bsky:search``; the
  recording's post author and follow subject are among the watched accounts, so two of
  every ten frames are hits that become events (profiles cached, as in a steady state).
- **socket + decode**: the same, received over a WebSocket from ``herald fakesky`` (its own
  process on the other core) with the subscription herald asks for (posts and follows;
  Jetstream filters the rest out upstream), so the figure includes reading the socket.

- **socket + decode + log**: a whole herald (``Herald`` with its worker, so the push runtime
  holds the connection under its lease; the alerts evaluator off) reading the same replay
  from ``herald fakesky`` and appending every batch's events with its cursor in one script
  to the event log on Redis; once with the streams of the other cases (3 events in every 4
  frames herald is sent), once with none of them watching anything in the recording.

``time.process_time()`` counts this process only (Redis and the stand-in excluded).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from redis.asyncio import Redis

from bench.common import Options, delete_prefix, progress, record, skipped
from bench.procs import Children, free_port, pinned, python_module, wait_http
from herald.config import Settings
from herald.push.base import Frame, PushStream
from herald.service import Herald
from herald.sources.bsky import BskySource
from herald.sources.bsky.api import BskyApi, Profile
from herald.store.bsky import RedisBskyStore
from herald.store.keys import Keys
from herald.testing.fakesky import default_fixtures, records

NAME = "push_jetstream"
GOAL = 20_000
BATCH = 256


def _streams(recorded: list[dict[str, Any]], hits: bool = True) -> list[PushStream]:
    """1,210 streams; with ``hits``, the recording's post author, follow subject and a word
    of its post are watched (3 frames in 10 become events), else nothing in it is."""
    rng = random.Random(7)
    poster = next(
        f["did"] for f in recorded if f.get("commit", {}).get("collection") == records.POST
    )
    subject = next(
        f["commit"]["record"]["subject"]
        for f in recorded
        if f.get("commit", {}).get("collection") == records.FOLLOW
    )
    dids = [records.did_for(f"bench{i}.test") for i in range(1_000)]
    streams = [PushStream(f"p{i}", "bsky:post", d) for i, d in enumerate(dids)]
    if hits:
        streams[0] = PushStream("p0", "bsky:post", poster)
    streams += [PushStream(f"m{i}", "bsky:mention", d) for i, d in enumerate(rng.sample(dids, 100))]
    streams += [PushStream(f"f{i}", "bsky:follower", d) for i, d in enumerate(rng.sample(dids, 99))]
    streams.append(PushStream("f99", "bsky:follower", subject if hits else dids[-1]))
    last = "go" if hits else "golang"
    words = ["python", "rust", "#bluesky", "herald", "weather", "news", "cat", "dog", last, "ai"]
    streams += [PushStream(f"q{i}", "bsky:search", w) for i, w in enumerate(words)]
    return streams


def _frames(recorded: list[dict[str, Any]], rounds: int) -> list[Frame]:
    out: list[Frame] = []
    time_us = 1_700_000_000_000_000
    for r in range(rounds):
        for frame in recorded:
            time_us += 1
            copy = dict(frame, time_us=time_us)
            commit = frame.get("commit")
            if isinstance(commit, dict):
                copy["commit"] = dict(commit, rkey=f"{commit['rkey']}{r}")
            out.append(Frame(orjson.dumps(copy).decode(), 0.0))
    return out


def _source(
    opts: Options, prefix: str, jetstream_url: str, recorded: list[dict[str, Any]]
) -> BskySource:
    store = RedisBskyStore(
        Redis.from_url(opts.redis_url), Keys(prefix), handle_ttl=60, follow_ttl=600
    )
    api = BskyApi("http://127.0.0.1:9", store)
    for frame in recorded:  # a steady state: the hit authors' profiles are cached
        api._remember(Profile(frame["did"], f"{frame['did'][-6:]}.test", "Someone"))
    return BskySource(jetstream_url, api, store)


async def _decode_case(
    opts: Options, prefix: str, recorded: list[dict[str, Any]], rounds: int
) -> dict[str, Any]:
    source = _source(opts, prefix, "ws://127.0.0.1:9/subscribe", recorded)
    streams = _streams(recorded)
    frames = _frames(recorded, rounds)
    await source.decode("bsky", frames[:BATCH], streams, None)  # warm: index built
    cursor: str | None = None
    events = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(frames), BATCH):
        out = await source.decode("bsky", frames[start : start + BATCH], streams, cursor)
        cursor = out.cursor or cursor
        events += len(out.changes)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await source.aclose()
    return _row("decode", len(frames), events, cpu, wall)


def _row(case: str, frames: int, events: int, cpu: float, wall: float) -> dict[str, Any]:
    return {
        "case": case,
        "frames": frames,
        "events": events,
        "cpu_s": round(cpu, 4),
        "wall_s": round(wall, 4),
        "frames_per_cpu_s": round(frames / cpu) if cpu else None,
        "cpu_ms_per_1000": round(cpu / frames * 1_000_000, 3) if frames else None,
    }


async def _socket_case(
    opts: Options, prefix: str, recorded: list[dict[str, Any]], rounds: int, fixtures: Path
) -> dict[str, Any]:
    async with Children() as children:
        port = free_port()
        argv = pinned(
            "1",
            python_module(
                "herald.testing.fakesky",
                "--port",
                str(port),
                "--fixtures",
                str(fixtures),
                "--window",
                str(len(recorded) * rounds + 100),
            ),
        )
        fake = await children.start("fakesky", argv)
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/_fakesky/requests", 30, fake)
        source = _source(opts, prefix, f"ws://127.0.0.1:{port}/subscribe", recorded)
        streams = _streams(recorded)
        conn = await source.connect("bsky", streams, None)
        async with httpx.AsyncClient(base_url=base, timeout=600) as control:
            while not (await control.get("/_fakesky/requests")).json()["connected"]:
                pass
            (await control.post("/_fakesky/replay", json={"times": rounds})).raise_for_status()
            # the replay's last frame may be one Jetstream filters out: a post marks the end
            end = await control.post("/_fakesky/users/alice.test/posts", json={"text": "end"})
        last = end.json()["time_us"]
        needle = f'"time_us":{last}'
        frames = events = 0
        cursor: str | None = None
        done = False
        cpu, wall = time.process_time(), time.perf_counter()
        while not done:
            batch = [await conn.recv()]
            while len(batch) < BATCH and not done:
                done = needle in str(batch[-1].data)
                if not done:
                    batch.append(await conn.recv())
            done = done or needle in str(batch[-1].data)
            out = await source.decode("bsky", batch, streams, cursor)
            cursor = out.cursor or cursor
            frames += len(batch)
            events += len(out.changes)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await conn.aclose()
        await source.aclose()
    return _row("socket + decode", frames, events, cpu, wall)


async def _log_case(
    opts: Options,
    prefix: str,
    recorded: list[dict[str, Any]],
    rounds: int,
    fixtures: Path,
    hits: bool,
) -> dict[str, Any]:
    async with Children() as children:
        port = free_port()
        window = str(len(recorded) * rounds + 100)
        argv = pinned(
            "1",
            python_module(
                "herald.testing.fakesky", "--port", str(port), "--fixtures", str(fixtures),
                "--window", window,
            ),
        )  # fmt: skip
        fake = await children.start("fakesky", argv)
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/_fakesky/requests", 30, fake)
        settings = Settings(
            redis_url=opts.redis_url,
            redis_prefix=prefix,
            jetstream_url=f"ws://127.0.0.1:{port}/subscribe",
            bsky_api_url=base,
            push_batch=BATCH,
            alerts=False,  # the alerts evaluator is its own pipeline; this is the push path
        )
        async with (
            Herald(settings, delivery=False) as herald,
            httpx.AsyncClient(base_url=base, timeout=600) as control,
        ):
            for stream in _streams(recorded, hits):
                await herald.manager.create(stream.type, stream.target, 60)
            await herald.manager.create("bsky:post", "alice.test", 60)  # the end marker's
            while (await herald.push_store.status("bsky")).get("connected") != "1":
                await asyncio.sleep(0.05)
            await asyncio.sleep(2.0)  # the runtime's next check has every stream on it
            redis = Redis.from_url(opts.redis_url)
            log_key = Keys(prefix).events
            events_before = int(await redis.xlen(log_key))
            sent_before = (await control.get("/_fakesky/requests")).json().get("framesSent", 0)
            cpu, wall = time.process_time(), time.perf_counter()
            (await control.post("/_fakesky/replay", json={"times": rounds})).raise_for_status()
            end = await control.post("/_fakesky/users/alice.test/posts", json={"text": "end"})
            last = int(end.json()["time_us"])
            while int((await herald.push_store.cursor("bsky")) or 0) < last:
                await asyncio.sleep(0.01)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            sent = (await control.get("/_fakesky/requests")).json()["framesSent"] - sent_before
            events = int(await redis.xlen(log_key)) - events_before
            await redis.aclose()
    case = "socket + decode + log" + ("" if hits else ", no hits")
    return _row(case, sent, events, cpu, wall)


async def run(opts: Options) -> dict[str, Any]:
    fixtures = default_fixtures()
    if fixtures is None:
        return skipped(opts, NAME, "recorded Jetstream frames not found (set HERALD_FIXTURES)")
    recorded = records.load_recording(fixtures)
    rounds = 2_000 if opts.quick else 20_000
    prefix = opts.prefix(NAME)
    rows: list[dict[str, Any]] = []
    try:
        for _ in range(1 if opts.quick else 3):
            rows.append(await _decode_case(opts, prefix, recorded, rounds))
            progress(NAME, f"decode: {rows[-1]['frames_per_cpu_s']:,} frames per CPU second")
        socket_rounds = rounds // 4
        for _ in range(1 if opts.quick else 3):
            rows.append(await _socket_case(opts, prefix, recorded, socket_rounds, fixtures))
            progress(
                NAME, f"socket + decode: {rows[-1]['frames_per_cpu_s']:,} frames per CPU second"
            )
        for hits in (False, True):
            for run_no in range(1 if opts.quick else 3):
                run_prefix = f"{prefix}-log{int(hits)}{run_no}"
                try:
                    row = await _log_case(opts, run_prefix, recorded, socket_rounds, fixtures, hits)
                finally:
                    await delete_prefix(opts.redis_url, run_prefix)
                rows.append(row)
                rate = row["frames_per_cpu_s"]
                progress(NAME, f"{row['case']}: {rate:,} frames per CPU second")
    finally:
        await delete_prefix(opts.redis_url, prefix)
    results: dict[str, Any] = {
        "rows": rows,
        "goal": GOAL,
        "batch": BATCH,
        "streams": len(_streams(recorded)),
        "load": [round(x, 2) for x in os.getloadavg()],
    }
    record(opts, NAME, results)
    return results
