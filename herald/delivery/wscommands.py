"""X write commands over ``/ws``, on the socket the client receives its events on.

Client → server::

    {"type": "commands:post_tweet:v1:requested", "id"?: "c1", "commandId"?: "...",
     "accountId"?: "...", "data": {"text": "..."}}

Server → client, each with the client's ``id`` (if given) and the ``commandId``:
``commands:{type}:v1:started`` (``payload``: the command as recorded), then
``commands:{type}:v1:success`` (``payload``: the command, ``state: succeeded``) or
``commands:{type}:v1:error``: ``payload`` is the command when it ran and failed or its
outcome is ``uncertain``, or ``{error, detail, retryAfter?}`` when it was refused before
anything was sent (no ``started`` then). Commands run beside the connection's
subscriptions and each other; a connection that goes away does not cancel what it sent
(the outcome is stored: ask again with the same ``commandId``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import orjson

from herald.commands import entry, validation
from herald.errors import HeraldError

if TYPE_CHECKING:
    from herald.delivery.ws import Message, WsConnection

log = logging.getLogger(__name__)

PREFIX = "commands:"
LIFECYCLE = re.compile(r"^commands:([a-z_]{1,32}):v1:requested$")
#: Commands one connection may have running at once; more are refused, not queued.
MAX_IN_FLIGHT = 16
_MESSAGE_FIELDS = frozenset({"type", "id", *entry.ENVELOPE_FIELDS})


class CommandRefused(Exception):
    """Refused before it started: answered with ``commands:{type}:v1:error``."""

    def __init__(self, error: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.payload = {"error": error, "detail": detail, **extra}


def is_command(msg_type: str) -> bool:
    return msg_type.startswith(PREFIX)


def _frame(kind: str, stage: str, msg_id: Any, command_id: Any, payload: Any) -> Message:
    from herald.delivery.ws import message

    msg: dict[str, Any] = {"type": f"{PREFIX}{kind}:v1:{stage}"}
    if msg_id is not None:
        msg["id"] = msg_id
    if command_id is not None:
        msg["commandId"] = command_id
    msg["payload"] = payload
    return message(orjson.dumps(msg))


class WsCommands:
    """The commands of one ``/ws`` connection."""

    def __init__(self, conn: WsConnection) -> None:
        self.conn = conn
        self.running: set[asyncio.Task[None]] = set()

    def receive(self, msg: dict[str, Any], msg_type: str) -> bool:
        """Start the command in ``msg``; ``False`` when ``msg_type`` is no command lifecycle
        name at all (the connection answers it as an unknown type)."""
        match = LIFECYCLE.match(msg_type)
        if match is None:
            return False
        kind = match.group(1)
        msg_id = msg.get("id")
        if msg_id is not None and not _valid_id(msg_id):
            msg_id = None
            self._refuse(kind, None, msg, "invalid_id", "id: a string of 1-128 characters")
            return True
        try:
            body = self._body(kind, msg)
        except CommandRefused as exc:
            self.conn.slot.errors += 1
            self.conn.push(_frame(kind, "error", msg_id, _command_id(msg), exc.payload))
            return True
        task = asyncio.create_task(self._run(kind, msg_id, body))
        for tasks in (self.running, self.conn.ctx.command_tasks):
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return True

    def _refuse(self, kind: str, msg_id: Any, msg: dict[str, Any], error: str, why: str) -> None:
        self.conn.slot.errors += 1
        payload = {"error": error, "detail": why}
        self.conn.push(_frame(kind, "error", msg_id, _command_id(msg), payload))

    def _body(self, kind: str, msg: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(str(k)[:64] for k in msg if k not in _MESSAGE_FIELDS)
        if unknown:
            allowed = ", ".join(sorted(_MESSAGE_FIELDS))
            raise CommandRefused(
                "validation_error", f"{unknown[0]}: unknown field (allowed: {allowed})"
            )
        if len(self.running) >= MAX_IN_FLIGHT:
            raise CommandRefused(
                "too_many_commands", f"at most {MAX_IN_FLIGHT} commands may run at once"
            )
        limiter = self.conn.ctx.command_limiter
        client = entry.limit_key(self.conn.principal, self.conn.slot.address)
        if not limiter.allow(client):
            wait = round(limiter.retry_after(client), 3)
            raise CommandRefused(
                "rate_limited", f"too many requests; retry in {wait:.2f}s", retryAfter=wait
            )
        body = {k: msg[k] for k in entry.ENVELOPE_FIELDS if k in msg}
        body["type"] = kind
        return body

    async def _run(self, kind: str, msg_id: Any, body: dict[str, Any]) -> None:
        conn = self.conn
        service = conn.ctx.commands
        given = body.get("commandId")
        # An id made here (as the service makes one) lets the outcome be watched for before
        # the command exists; a malformed id is left for the envelope check to refuse.
        command_id = given if given is not None else validation.new_command_id()
        body = {**body, "commandId": command_id}
        try:
            with conn.ctx.command_outcomes.watch(str(command_id)) as logged:
                command = await entry.submit(service, conn.principal, body, wait=False)
                conn.push(_frame(kind, "started", msg_id, command_id, command))
                if not entry.finished(command):
                    command = await self._outcome(body, logged)
        except HeraldError as exc:
            conn.slot.errors += 1
            shown = _command_id(body)  # a malformed id is not echoed back
            conn.push(_frame(kind, "error", msg_id, shown, entry.refusal(exc)))
            return
        except Exception:
            log.exception("command %r over /ws failed", _command_id(body))
            refusal = {"error": "internal", "detail": "the command failed inside herald"}
            conn.push(_frame(kind, "error", msg_id, _command_id(body), refusal))
            return
        stage = "success" if command.get("state") == "succeeded" else "error"
        conn.push(_frame(kind, stage, msg_id, command_id, command))

    async def _outcome(self, body: dict[str, Any], logged: asyncio.Future[None]) -> dict[str, Any]:
        """The finished command: as soon as its outcome event passes the log tail, or from
        the service's own wait (the same id again waits for the first run, never runs it
        twice), whichever comes first."""
        service = entry.require(self.conn.ctx.commands)
        waited: asyncio.Future[dict[str, Any]] = asyncio.ensure_future(
            service.submit(body, wait=True)
        )
        try:
            either: set[asyncio.Future[Any]] = {logged, waited}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if waited.done():
                return waited.result()
            found = await service.get(str(body["commandId"]))
            return found if entry.finished(found) else await waited
        finally:
            waited.cancel()


def _valid_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and 0 < len(value) <= 128)


def _command_id(msg: dict[str, Any]) -> Any:
    value = msg.get("commandId")
    return value if isinstance(value, str) and entry.COMMAND_ID.match(value) else None
