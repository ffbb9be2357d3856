"""Socket.IO v4 connection state recovery, backed by herald's event log.

socket.io v4's server (``connectionStateRecovery``) gives each session a private id, the
``pid`` in the ``CONNECT`` packet's data, and appends each event's offset as the last
argument of its packet. socket.io-client keeps both and, when it reconnects, sends
``{pid, offset}`` in its handshake ``auth``; it sets ``socket.recovered`` when the server
answers with the same ``pid``. herald keeps what a session asked for (its subscription, if
any) in Redis under the ``pid`` and replays the missed events from the log, so recovery
holds for as long as the log holds the offset — and across nodes. Beyond that (the offset
was trimmed, the ``pid`` is unknown or expired) the session starts afresh with a new
``pid``, and the client sees ``recovered === false``.

A client that never received an event sends no ``offset``: the session remembers where its
delivery started and resumes from there.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from redis.asyncio import Redis

from herald.auth import Principal
from herald.delivery.entry import is_offset
from herald.delivery.replay import Resume
from herald.delivery.subscribe import Plan, plan
from herald.delivery.subscription import Subscription, compat_selector, parse_subscription
from herald.delivery.transport import Context
from herald.errors import HeraldError

#: How long a session's state outlives its last connection (the log's retention decides
#: whether its missed events can still be replayed).
SESSION_TTL = 24 * 3600
_PID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass(slots=True)
class Session:
    pid: str
    #: Where delivery started when the session was created (the log's newest offset).
    start: str
    #: The raw subscription (without ``since``); ``None`` while in compat mode.
    sub: dict[str, Any] | None = None
    #: ``False`` after ``unsubscribe``: nothing is delivered until the next ``subscribe``.
    active: bool = True

    def encode(self) -> bytes:
        return orjson.dumps({"start": self.start, "sub": self.sub, "active": self.active})


class Sessions:
    """Recovery state in Redis, one key per ``pid`` with a TTL."""

    def __init__(self, redis: Redis, key: Callable[[str], str]) -> None:
        self.redis = redis
        self.key = key

    async def load(self, pid: str) -> Session | None:
        raw = await self.redis.get(self.key(pid))
        if raw is None:
            return None
        try:
            data = orjson.loads(raw)
            return Session(pid, str(data["start"]), data.get("sub"), bool(data.get("active")))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return None

    async def save(self, session: Session) -> None:
        await self.redis.set(self.key(session.pid), session.encode(), ex=SESSION_TTL)


def valid_pid(value: Any) -> bool:
    return isinstance(value, str) and 16 <= len(value) <= 64 and set(value) <= _PID_CHARS


def knows_recovery(environ: Mapping[str, Any], auth: Any) -> bool:
    """Whether this client takes an event's offset as an extra, last argument.

    socket.io-client (JavaScript, v4.6+) does: it hands every argument to a listener, which
    ignores the ones it does not name, and keeps the last string as its offset. Python
    clients call handlers with every argument, so a one-argument handler would break: they
    are recognised by their handshake (python-engineio sends its ``t`` as a float timestamp,
    over aiohttp or requests). ``auth.recovery`` (true or false) overrides the guess.
    """
    if isinstance(auth, dict) and isinstance(auth.get("recovery"), bool):
        return bool(auth["recovery"])
    agent = str(environ.get("HTTP_USER_AGENT", "")).lower()
    if "aiohttp" in agent or "python" in agent:
        return False
    stamp = dict(parse_qsl(str(environ.get("QUERY_STRING", "")))).get("t", "")
    try:
        float(stamp)
    except ValueError:
        return True
    return False


async def open_session(
    ctx: Context, sessions: Sessions, auth: Any, principal: Principal, *, keep: bool = True
) -> tuple[Session, Plan, bool]:
    """The session a handshake continues (``True``) or the fresh one it starts (``False``).

    A fresh session is stored only when ``keep``: a client that cannot recover (it gets no
    offsets) would only leave keys behind.

    Compat mode delivers what is appended from the handshake on: events already in the log
    that the tail has not dispatched yet are not a fresh session's (``since`` replays them).
    """
    found = await _recover(ctx, sessions, auth, principal)
    if found is not None:
        return found[0], found[1], True
    start = await ctx.log.newest_offset()
    session = Session(secrets.token_urlsafe(18), start)
    if keep:
        await sessions.save(session)
    fresh = Plan(compat_selector(principal), Resume(True, start, None), floor=start)
    return session, fresh, False


async def _recover(
    ctx: Context, sessions: Sessions, auth: Any, principal: Principal
) -> tuple[Session, Plan] | None:
    if not isinstance(auth, dict) or not valid_pid(auth.get("pid")):
        return None
    session = await sessions.load(str(auth["pid"]))
    if session is None:
        return None
    offset = auth.get("offset")
    since = str(offset) if is_offset(offset) else session.start
    try:
        selector = (
            parse_subscription(session.sub, principal).selector
            if session.sub is not None
            else compat_selector(principal)
        )
    except HeraldError:  # the token no longer allows what the session asked for
        return None
    resumed = await plan(ctx, Subscription(selector, since))
    if not resumed.resume.recovered:
        return None
    await sessions.save(session)  # a new lease on life
    return session, resumed
