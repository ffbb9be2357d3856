"""The commands service: validate, gate, claim the id once, send once, record the outcome.

Order of a submit: validation, then the stored command if the id is known (the same id is
the same command), then the gates that send nothing when they refuse (writes enabled, an
account that may write, its write budget), then the claim, the ``command:requested``
event, the one request to X and the outcome event. Lifecycle events go to the global log
through the event log's append-once script under the stream id ``commands``, each with
``correlationId`` = the command id, so a retried append never duplicates one.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from herald import redaction
from herald.commands.outcomes import Outcome, error, outcome_of
from herald.commands.validation import parse_command
from herald.commands.xwriter import Writer
from herald.config import Settings
from herald.errors import AccountPaused, NotFound, WriteRateLimited, WritesDisabled
from herald.events import Event, EventType
from herald.sources.x.accounts import Account, AccountStore, NoUsableAccount
from herald.sources.x.mutations import OPERATIONS
from herald.store.commands import CommandStore, Stored
from herald.store.eventlog import EventLog

log = logging.getLogger(__name__)

STREAM_ID = "commands"
"""The ``streamId`` of every command event in the log."""
OPEN_STATES = ("requested", "running")
FINAL_STATES = ("succeeded", "failed", "uncertain")
_EVENTS = {
    "requested": EventType.COMMAND_REQUESTED,
    "succeeded": EventType.COMMAND_SUCCEEDED,
    "failed": EventType.COMMAND_FAILED,
    "uncertain": EventType.COMMAND_UNCERTAIN,
}
_PAUSE_HEALTH = {"write_paused", "locked", "auth_failed", "suspended"}


def iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def epoch_of(value: object) -> float:
    if not isinstance(value, str):
        return 0.0
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class CommandService:
    """:class:`herald.commands.base.CommandsService` over Redis and X."""

    def __init__(
        self,
        settings: Settings,
        store: CommandStore,
        log: EventLog,
        accounts: AccountStore,
        writer: Writer,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.log = log
        self.accounts = accounts
        self.writer = writer
        self._clock = clock
        self._tasks: set[asyncio.Task[Any]] = set()
        self.send_timeout = settings.poll_timeout * 2 + 5
        """The most one send may take (CSRF token, signer, the request) before it is
        abandoned as ``uncertain``."""
        self.lease = self.send_timeout + 10
        """How long a runner owns a command; past it a reconciler takes over."""

    def now(self) -> float:
        return float(self._clock())

    # --- the contract ------------------------------------------------------------------
    async def submit(
        self, body: Mapping[str, Any], *, wait: bool = True, timeout: float | None = None
    ) -> dict[str, Any]:
        request = parse_command(body)
        known = await self.store.get(request.id)
        if known is not None:
            return await self._answer(request.id, known, wait, timeout)
        if not self.settings.enable_writes:
            raise WritesDisabled(
                "X writes are off: set HERALD_ENABLE_WRITES=true to let herald post, delete, "
                "like and retweet; nothing was sent"
            )
        account = await self._account(request.account_id, OPERATIONS[request.type])
        await self._reserve(account.id, request.id)
        now = self._clock()
        doc: dict[str, Any] = {
            "id": request.id,
            "type": request.type,
            "accountId": account.id,
            "data": request.data,
            "state": "requested",
            "requestedAt": iso(now),
        }
        lease = int((now + self.lease) * 1000)
        claim = await self.store.claim(request.id, doc, int(now * 1000), lease)
        if not claim.claimed:  # another submit of the same id won the race
            stored = Stored(claim.doc or {}, claim.state, 0)
            return await self._answer(request.id, stored, wait, timeout)
        await self._emit("requested", doc)
        lift = account.health == "write_paused"
        task = asyncio.create_task(self._run(doc, lift), name=f"command:{request.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if not wait:
            return dict(doc)
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            return await self.get(request.id)

    async def get(self, command_id: str) -> dict[str, Any]:
        stored = await self.store.get(command_id)
        if stored is None:
            raise NotFound(f"command {command_id!r} does not exist (or has expired)")
        return dict(stored.doc)

    async def list(self, *, limit: int = 50) -> list[dict[str, Any]]:
        return [dict(s.doc) for s in await self.store.recent(max(1, min(limit, 1000)))]

    # --- lifecycle -----------------------------------------------------------------------
    async def settle(
        self, doc: Mapping[str, Any], expected: tuple[str, ...], outcome: Outcome
    ) -> dict[str, Any] | None:
        """Move the command from one of ``expected`` to the outcome, apply its account
        consequences and log its event; None when someone else moved it first."""
        if outcome.pause is not None or outcome.health is not None:
            await self._account_verdict(str(doc["accountId"]), outcome)
        new = {k: v for k, v in doc.items() if k not in ("result", "error")}
        new["state"] = outcome.state
        if outcome.result is not None:
            new["result"] = outcome.result
        if outcome.error is not None:
            new["error"] = {**outcome.error, "message": redaction.scrub(outcome.error["message"])}
        if outcome.state != "uncertain":
            new["finishedAt"] = iso(self._clock())
        if not await self.store.move(str(doc["id"]), expected, outcome.state, new):
            return None
        await self.log_state(new)
        return new

    async def log_state(self, doc: Mapping[str, Any]) -> None:
        """Append the event of the command's state (once, however often called); a settled
        command then leaves the reconciler's open set."""
        state = str(doc["state"])
        await self._emit(state, doc)
        if state in ("succeeded", "failed"):
            await self.store.close(str(doc["id"]))

    async def _run(self, doc: dict[str, Any], lift_pause: bool = False) -> dict[str, Any]:
        running = {**doc, "state": "running"}
        lease = int((self._clock() + self.lease) * 1000)
        if not await self.store.move(
            doc["id"], ("requested",), "running", running, lease_until_ms=lease
        ):
            return await self.get(doc["id"])
        try:
            async with asyncio.timeout(self.send_timeout):
                result = await self.writer.send(doc["accountId"], doc["type"], doc["data"])
            outcome = Outcome("succeeded", result)
        except asyncio.CancelledError:
            # herald stops mid-send: the lease lapses and a reconciler marks it uncertain
            raise
        except Exception as exc:
            if isinstance(exc, TimeoutError):
                exc = TimeoutError(f"X did not answer within {self.send_timeout:g}s")
            outcome = outcome_of(exc, doc["type"], doc["data"])
            if outcome.state == "uncertain":
                log.warning("command %s is uncertain: %s", doc["id"], redaction.scrub(str(exc)))
        if outcome.state == "succeeded" and lift_pause:
            await self._lift_write_pause(doc["accountId"])
        settled = await self.settle(running, ("running",), outcome)
        return settled if settled is not None else await self.get(doc["id"])

    async def _lift_write_pause(self, account_id: str) -> None:
        """A write went through after a 226 pause lapsed: the account is ok again."""
        account = await self.accounts.get(account_id)
        if account.health == "write_paused":
            await self.accounts.set_health(account_id, "ok", "a write went through again")

    async def _answer(
        self, command_id: str, stored: Stored, wait: bool, timeout: float | None
    ) -> dict[str, Any]:
        """The stored command; with ``wait``, once it has left requested/running (or at
        ``timeout``)."""
        if not wait or stored.state not in OPEN_STATES:
            return dict(stored.doc)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout is not None else self.lease)
        delay = 0.02
        while loop.time() < deadline:
            await asyncio.sleep(min(delay, max(deadline - loop.time(), 0)))
            delay = min(delay * 2, 0.25)
            current = await self.store.get(command_id)
            if current is None or current.state not in OPEN_STATES:
                break
        return await self.get(command_id)

    async def _emit(self, state: str, doc: Mapping[str, Any]) -> None:
        command = {
            key: doc[key]
            for key in ("id", "type", "accountId", "data", "result", "error")
            if key in doc
        }
        event = Event(
            _EVENTS[state],
            STREAM_ID,
            str(doc.get("accountId", "")),
            str(doc["id"]),
            {"command": command},
            platform="x",
            correlation_id=str(doc["id"]),
        )
        await self.log.append(STREAM_ID, [event])

    # --- gates ---------------------------------------------------------------------------
    async def _account(self, account_id: str | None, operation: str) -> Account:
        """The given account, else the env cookie's, else the least recently used healthy
        one whose writes are not paused."""
        if account_id is not None:
            account = await self.accounts.get(account_id)
            await self._check_usable(account)
            return account
        cookie = self.settings.session_cookie
        preferred = self.accounts.env_id(cookie) if cookie and cookie.strip() else None
        if preferred is not None:
            await self.accounts.env_account(cookie)
        accounts = sorted(
            await self.accounts.list(),
            key=lambda a: (a.id != preferred, a.last_used or 0.0, a.added_at),
        )
        paused: AccountPaused | None = None
        for account in accounts:
            try:
                await self._check_usable(account)
            except AccountPaused as exc:
                paused = paused or exc
                continue
            if await self.accounts.limits.check(account.id, operation) is None:
                return account
        if paused is not None:
            raise paused
        raise NoUsableAccount(
            "no X account may write: pass accountId, set HERALD_SESSION_COOKIE, or run "
            "herald accounts add"
        )

    async def _check_usable(self, account: Account) -> None:
        pause = await self.store.paused(account.id)
        if pause is not None:
            raise AccountPaused(
                f"writes of X account {account.id} are paused: {pause.get('reason', 'X refused')}"
                "; nothing was sent"
            )
        if account.health in _PAUSE_HEALTH - {"write_paused"}:
            raise AccountPaused(
                f"X account {account.id} cannot write: its health is {account.health} "
                f"({account.health_reason or 'no reason recorded'}); nothing was sent"
            )

    def windows(self) -> builtins.list[tuple[float, int]]:
        s = self.settings
        pairs = (
            (60.0, s.write_limit_minute),
            (3600.0, s.write_limit_hour),
            (86400.0, s.write_limit_day),
        )
        return [(seconds, limit) for seconds, limit in pairs if limit > 0]

    async def _reserve(self, account_id: str, command_id: str) -> None:
        wait = await self.store.reserve(account_id, command_id, self.windows())
        if wait > 0:
            raise WriteRateLimited(
                f"the write budget of X account {account_id} is spent (HERALD_WRITE_LIMIT_*); "
                f"retry in {wait:.0f}s; nothing was sent",
                retry_after=wait,
            )

    async def _account_verdict(self, account_id: str, outcome: Outcome) -> None:
        """X's 226 or 326: pause the account's writes and record its health (the
        ``account:health`` event, once per transition); 401/suspended: the health only."""
        reason = outcome.error["message"] if outcome.error else ""
        if outcome.pause is not None:
            await self.store.pause(
                account_id,
                {
                    "reason": redaction.scrub(reason),
                    "health": outcome.pause,
                    "at": iso(self._clock()),
                },
                self.settings.write_pause,
            )
        health = outcome.pause or outcome.health
        if health is not None:
            await self.accounts.set_health(account_id, health, reason)  # type: ignore[arg-type]

    # --- shutdown ------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Let sends in flight finish within ``HERALD_SHUTDOWN_TIMEOUT``, then cancel the
        rest (their leases lapse: a reconciler settles them as uncertain, never re-sending
        a post) and close the X clients."""
        tasks = list(self._tasks)
        if tasks:  # sends in flight get the shutdown grace to finish and record their outcome
            await asyncio.wait(tasks, timeout=float(self.settings.shutdown_timeout))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.writer.aclose()


__all__ = ["STREAM_ID", "CommandService", "epoch_of", "error"]
