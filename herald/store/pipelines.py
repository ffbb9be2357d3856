"""Pipeline state in Redis: the consumer group, the lease, the committed state, dead letters.

Every key a running pipeline uses lives here (:class:`PipelineKeys`). A pipeline reads the
global log through its own consumer group; one worker at a time owns it through a lease.
After each batch the owner commits in ONE script (``COMMIT``, in :mod:`.pipeline_scripts`):
the state blob, the ``XACK`` of the batch, the dead letters and the append-once of the
outputs. The script
checks the lease first, so an owner that lost its lease (paused by GC, cut off) can commit
nothing: the new owner restores the last committed state and re-reads the same entries
from the pending list, and the outputs it appends carry the same derived eventIds.

The append part composes the event log's append-once step (``store/eventlog.py``): an
output's eventId goes into the pipeline's eventid set with ``ZADD NX`` and only a new one is
``XADD``ed to the global log. Like the event log, this needs a single Redis node (or Valkey).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from herald.store import pipeline_scripts as lua
from herald.store.codec import fields, text
from herald.store.keys import Keys
from herald.store.logreader import LogReader


@dataclass(frozen=True, slots=True)
class PipelineKeys:
    """The keys of one pipeline, all under ``{prefix}:pipeline:{name}:``."""

    keys: Keys
    name: str

    @property
    def base(self) -> str:
        return f"{self.keys.prefix}:pipeline:{self.name}"

    @property
    def state(self) -> str:
        """hash: state (snapshot blob), offset, owner, paused, error, counters, declared."""
        return f"{self.base}:state"

    @property
    def lease(self) -> str:
        """string: the owning worker's token, with a PX lease renewed while it runs."""
        return f"{self.base}:lease"

    @property
    def event_ids(self) -> str:
        """zset: eventIds of outputs already appended (append-once), trimmed."""
        return f"{self.base}:eventids"

    @property
    def dead(self) -> str:
        """list: dead letters, newest first, capped (JSON: offset, event, operator, error)."""
        return f"{self.base}:dead"

    @property
    def retry(self) -> str:
        """list: dead letters sent back for another try, oldest first."""
        return f"{self.base}:retry"

    @property
    def group(self) -> str:
        """The consumer group's name on the global log."""
        return f"pipeline:{self.name}"

    def all(self) -> tuple[str, ...]:
        return (self.state, self.lease, self.event_ids, self.dead, self.retry)


def pipelines_index(keys: Keys) -> str:
    """hash: pipeline name -> its declaration (JSON: source, inputs, description)."""
    return f"{keys.prefix}:pipelines"


@dataclass(slots=True)
class Committed:
    """What the store holds for one pipeline (the ``state`` hash, decoded)."""

    blob: bytes | None = None
    offset: str | None = None
    owner: str | None = None
    paused: bool = False
    error: str | None = None
    counters: dict[str, int] = field(default_factory=dict)
    committed_at: float | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """One output to append: its derived eventId, type and encoded body."""

    event_id: str
    type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Batch:
    """What one read brings: the controls and the entries (a trimmed one without a body)."""

    paused: bool
    retries: int
    entries: list[tuple[str, bytes | None]]
    ids: list[bytes]  # the entry ids as Redis sent them: what the commit acknowledges


@dataclass(frozen=True, slots=True)
class GroupInfo:
    lag: int | None
    pending: int
    last_delivered: str | None


class Fenced(Exception):
    """The commit was refused: this worker no longer holds the pipeline's lease."""


_COUNTERS = ("batches", "in", "out", "errors", "deadLetters")


class PipelineStore:
    """Redis access for running pipelines; stateless apart from the registered scripts."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        log_maxlen: int = 100_000,
        event_ids_kept: int = 100_000,
        dead_max: int = 1000,
    ) -> None:
        self.redis = redis
        self.keys = keys
        #: Reads of the global log outside the consumer group (waiting, replay).
        self.log = LogReader(redis, keys.events)
        self._log_maxlen = log_maxlen
        self._event_ids_kept = event_ids_kept
        self._dead_max = dead_max
        self._commit = redis.register_script(lua.COMMIT)
        self._acquire = redis.register_script(lua.ACQUIRE)
        self._read = redis.register_script(lua.READ)
        self._raise = redis.register_script(lua.RAISE)
        self._release = redis.register_script(lua.RELEASE)
        self._renew = redis.register_script(lua.RENEW)
        self._reset = redis.register_script(lua.RESET)
        self._requeue = redis.register_script(lua.REQUEUE)

    def of(self, name: str) -> PipelineKeys:
        return PipelineKeys(self.keys, name)

    # --- declaration ---------------------------------------------------------------
    async def declare(self, name: str, declaration: Mapping[str, Any]) -> None:
        await self.redis.hset(pipelines_index(self.keys), name, orjson.dumps(declaration))

    async def declared(self) -> dict[str, dict[str, Any]]:
        raw = await self.redis.hgetall(pipelines_index(self.keys))
        return {text(k): orjson.loads(v) for k, v in sorted(raw.items())}

    async def ensure_group(self, name: str, start: str = "$") -> None:
        """Create the pipeline's consumer group (from ``start``: ``$`` = new entries only)."""
        try:
            await self.redis.xgroup_create(
                self.keys.events, self.of(name).group, start, mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def reset(self, name: str, after: str) -> None:
        """Drop the state and the pending entries; read again after ``after``. The owner is
        fenced (it loses its lease), so it can commit nothing from before the reset."""
        k = self.of(name)
        await self._reset(keys=[k.lease, k.state, self.keys.events], args=[k.group, after])

    # --- the lease -----------------------------------------------------------------
    async def acquire(self, name: str, owner: str, ttl: float) -> bool:
        k = self.of(name)
        got = await self._acquire(keys=[k.lease, k.state], args=[owner, int(ttl * 1000)])
        return bool(got)

    async def renew(self, name: str, owner: str, ttl: float) -> bool:
        """Extend ``owner``'s lease; False when it is no longer theirs."""
        done = await self._renew(keys=[self.of(name).lease], args=[owner, int(ttl * 1000)])
        return bool(done)

    async def release(self, name: str, owner: str) -> None:
        await self._release(keys=[self.of(name).lease], args=[owner])

    async def owner(self, name: str) -> str | None:
        value = await self.redis.get(self.of(name).lease)
        return text(value) if value is not None else None

    # --- reading -----------------------------------------------------------------
    async def claim_pending(self, name: str, consumer: str) -> None:
        """Take over every entry pending in the group (a dead owner's batch) as ``consumer``."""
        k = self.of(name)
        start = "0-0"
        while True:
            reply = await self.redis.xautoclaim(
                self.keys.events, k.group, consumer, 0, start_id=start, count=1000
            )
            start = text(reply[0])
            if start == "0-0":
                return

    async def read(self, name: str, consumer: str, count: int, *, pending: bool) -> Batch:
        """The next entries for ``consumer``: its pending ones (``pending``), else new ones;
        with whether the pipeline is paused and how many dead letters wait for a retry.

        Only the lease holder reads (a worker that lost the lease gets :class:`Fenced`), so
        no entry is ever delivered to a consumer that can no longer commit it. An entry
        trimmed from the log while pending comes back without a body (``None``).
        """
        k = self.of(name)
        reply = await self._read(
            keys=[k.lease, self.keys.events, k.state, k.retry],
            args=[consumer, k.group, count, "0" if pending else ">"],
        )
        if reply is None:
            raise Fenced(name)
        paused, retries, items = reply
        entries: list[tuple[str, bytes | None]] = []
        ids: list[bytes] = []
        for entry in items:
            ids.append(entry[0])
            raw = entry[1] if len(entry) > 1 and entry[1] else []
            body = None
            for i in range(0, len(raw) - 1, 2):
                if raw[i] == b"e":
                    body = raw[i + 1]
            entries.append((text(entry[0]), body))
        return Batch(bool(int(paused)), int(retries), entries, ids)

    async def wait_new(self, after: str, block_ms: int) -> bool:
        """Block until the log has an entry after ``after`` (``$``: after now), or time out."""
        offset = await self.log.end() if after == "$" else after
        return bool(await self.log.wait(offset, 1, block_ms))

    async def last_offset(self) -> str:
        """The id of the newest entry of the log (``0-0`` when empty)."""
        return await self.log.newest_offset()

    async def range(self, start: str, end: str, count: int) -> list[tuple[str, bytes]]:
        """Global log entries from ``start`` to ``end`` (XRANGE syntax, ``(`` exclusive);
        each body carries its ``offset``."""
        return [(e.offset, e.data) for e in await self.log.between(start, end, count)]

    async def retries(self, name: str, count: int) -> list[bytes]:
        raw = await self.redis.lrange(self.of(name).retry, 0, count - 1)
        return [item if isinstance(item, bytes) else str(item).encode() for item in raw]

    # --- committing ----------------------------------------------------------------
    async def commit(
        self,
        name: str,
        owner: str,
        *,
        blob: bytes,
        acks: Sequence[str | bytes],
        outputs: Sequence[Pending],
        dead: Sequence[bytes],
        n_in: int,
        n_errors: int,
        retried: int = 0,
    ) -> int:
        """State, ack, dead letters and outputs at once; the number of outputs appended.

        Raises :class:`Fenced` when ``owner`` does not hold the lease (nothing is written).
        """
        k = self.of(name)
        args: list[Any] = [
            owner,
            k.group,
            _now_ms(),
            self._log_maxlen,
            self._event_ids_kept,
            self._dead_max,
            blob,
            n_in,
            n_errors,
            retried,
            f"pipeline:{name}",
            len(acks),
            *acks,
            len(dead),
            *dead,
        ]
        for out in outputs:
            args.extend((out.event_id, out.type, out.body))
        result = await self._commit(
            keys=[k.state, self.keys.events, k.event_ids, k.lease, k.dead, k.retry], args=args
        )
        if result is None:
            raise Fenced(name)
        return int(result)

    async def load(self, name: str) -> Committed:
        raw = await self.redis.hgetall(self.of(name).state)
        got = {text(key): value for key, value in raw.items()}
        blob = got.get("state")
        return Committed(
            blob=blob if isinstance(blob, bytes) and blob else None,
            offset=text(got["offset"]) if got.get("offset") else None,
            owner=text(got["owner"]) if got.get("owner") else None,
            paused=text(got.get("paused", b"0")) == "1",
            error=text(got["error"]) if got.get("error") else None,
            counters={c: int(text(got.get(c, b"0"))) for c in _COUNTERS},
            committed_at=int(text(got["committedAt"])) / 1000 if got.get("committedAt") else None,
        )

    async def raise_error(
        self, name: str, field_name: str, value: str, event_id: str, etype: str, body: bytes
    ) -> bool:
        """Set ``field_name`` to ``value`` and append the event once; False if already so."""
        k = self.of(name)
        done = await self._raise(
            keys=[k.state, self.keys.events, k.event_ids],
            args=[
                field_name,
                value,
                event_id,
                etype,
                body,
                _now_ms(),
                self._log_maxlen,
                f"pipeline:{name}",
            ],
        )
        return bool(done)

    async def set_fields(self, name: str, values: Mapping[str, str]) -> None:
        await self.redis.hset(self.of(name).state, mapping=fields(values))

    async def raw_state(self, name: str) -> dict[str, str]:
        """The state hash as text, without the state blob (for status)."""
        raw = await self.redis.hgetall(self.of(name).state)
        return {text(k): text(v) for k, v in raw.items() if text(k) != "state"}

    async def clear_fields(self, name: str, *names: str) -> None:
        await self.redis.hdel(self.of(name).state, *names)

    async def set_paused(self, name: str, paused: bool, reason: str = "") -> None:
        if paused:
            await self.set_fields(name, {"paused": "1", "pausedReason": reason})
        else:
            await self.redis.hset(self.of(name).state, "paused", "0")
            await self.clear_fields(name, "pausedReason", "error")

    # --- status --------------------------------------------------------------------
    async def group_info(self, name: str) -> GroupInfo | None:
        try:
            groups = await self.redis.xinfo_groups(self.keys.events)
        except ResponseError:
            return None
        wanted = self.of(name).group
        for group in groups:
            if text(group.get("name")) == wanted:
                lag = group.get("lag")
                last = group.get("last-delivered-id")
                return GroupInfo(
                    lag=int(lag) if lag is not None else None,
                    pending=int(group.get("pending") or 0),
                    last_delivered=text(last) if last is not None else None,
                )
        return None

    async def dead_letters(self, name: str, limit: int = 100) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(self.of(name).dead, 0, limit - 1)
        return [orjson.loads(item) for item in raw]

    async def dead_count(self, name: str) -> int:
        return int(await self.redis.llen(self.of(name).dead))

    async def requeue_dead(self, name: str) -> int:
        """Send every dead letter back for another try; the number moved."""
        k = self.of(name)
        return int(await self._requeue(keys=[k.dead, k.retry]))

    async def state_size(self, name: str) -> int:
        return int(await self.redis.hstrlen(self.of(name).state, "state"))

    async def delete(self, name: str) -> None:
        """Remove a pipeline's keys and group (tests and ``undeclare``)."""
        k = self.of(name)
        await self.redis.delete(*k.all())
        await self.redis.hdel(pipelines_index(self.keys), name)
        with contextlib.suppress(ResponseError):
            await self.redis.xgroup_destroy(self.keys.events, k.group)


def _now_ms() -> int:
    return int(time.time() * 1000)
