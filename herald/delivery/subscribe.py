"""The one subscribe flow every transport uses: rate limit, parse, plan the resume, ack, join.

Socket.IO (``subscribe`` and the handshake), ``/ws`` and SSE differ only in how they write
the acknowledgement and the events. The order of the steps lives here, once:

1. :func:`prepare` refuses an excess request (rate limit), validates the subscription and
   decides where it starts (:func:`~herald.delivery.replay.plan_resume`). Nothing is sent.
2. :func:`begin` writes the acknowledgement — a ``/ws`` ``started``, the SSE ``subscribed``
   event, the Socket.IO ``CONNECT`` packet — and only then joins live delivery or starts
   the replay. The ack is written (or queued in order) synchronously by the transport, so
   no event can reach a client before it, and the offsets a client sees only increase.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from herald.auth import Principal
from herald.delivery.entry import Entry, OffsetKey, offset_key
from herald.delivery.hub import Sink
from herald.delivery.replay import RangePlan, Resume, catch_up, plan_range, plan_resume, run_range
from herald.delivery.sent import SentWindows
from herald.delivery.subscription import Selector, Subscription, parse_subscription
from herald.delivery.transport import Context
from herald.errors import HeraldError


class RateLimited(HeraldError):
    """Too many subscribe requests from one client; ``retry_after`` says for how long."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many subscribe requests")
        self.retry_after = retry_after


class Subscriber(Sink, Protocol):
    """A sink that a replay can also feed (waiting for room instead of being cut off)."""

    async def put(self, entry: Entry) -> None: ...

    async def notice(self, name: str, payload: dict[str, Any]) -> None:
        """Send a control message (``replay:gap``, ``replay:done``) in order with events."""


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated subscription and where it starts; what :func:`begin` carries out."""

    selector: Selector
    resume: Resume
    #: Live delivery starts after this offset when there is nothing to replay (``None``:
    #: the tail's offset at the moment of joining).
    floor: str | None = None
    #: A replay subscription: send this range, then ``replay:done``; never go live.
    ranged: RangePlan | None = None


def check_rate(ctx: Context, client_id: str) -> None:
    if not ctx.limiter.allow(client_id):
        raise RateLimited(round(ctx.limiter.retry_after(client_id), 3))


async def prepare(ctx: Context, client_id: str, raw: Any, principal: Principal) -> Plan:
    """Rate limit, validate and plan a subscribe request; raises :class:`HeraldError`."""
    check_rate(ctx, client_id)
    sub = parse_subscription(raw, principal)
    return await plan(ctx, sub)


async def plan(ctx: Context, sub: Subscription, floor: str | None = None) -> Plan:
    if sub.replay is not None:
        ranged = await plan_range(ctx.log, sub.replay)
        held = ranged.gap is None
        return Plan(sub.selector, Resume(held, ranged.gap or ranged.start, None), ranged=ranged)
    resume = await plan_resume(ctx.log, sub.since, ctx.tail)
    return Plan(sub.selector, resume, floor)


def begin(
    ctx: Context,
    sink: Subscriber,
    plan: Plan,
    *,
    ack: Callable[[Resume], None],
    active: Callable[[], bool],
    sent: SentWindows | None = None,
    live: Callable[[Selector], Selector] | None = None,
) -> Coroutine[Any, Any, None] | None:
    """Acknowledge, then start delivery: join live now, or return the replay to run.

    ``ack`` must write (or queue, in order with the events) the acknowledgement before it
    returns; ``active`` says whether the sink still wants the subscription when the replay
    reaches live delivery. ``sent`` (Socket.IO) remembers what the connection already got.
    ``live`` turns the selector into the one live delivery uses, when it starts (Socket.IO
    adds the rooms the client has joined by then).
    """
    resume = plan.resume
    ack(resume)
    tail = ctx.tail
    if plan.ranged is not None:
        if sent is not None:
            sent.reset()  # a replay sends its whole range, whatever was sent before
        return run_range(ctx.log, plan.ranged, plan.selector, sink.put, sink.notice, ctx.clock)
    if resume.after is None and not resume.from_oldest:
        floor = plan.floor if plan.floor is not None else tail.offset
        if sent is not None:
            sent.open(max(tail.position, _key(floor)), plan.selector)
        ctx.hub.join(sink, live(plan.selector) if live else plan.selector, floor=_key(floor))
        return None

    def go_live(last: str) -> None:
        if active():
            selector = live(plan.selector) if live else plan.selector
            ctx.hub.join(sink, selector, floor=offset_key(last))

    if sent is not None:
        sent.open(offset_key(resume.after) if resume.after else (0, 0), plan.selector)
    put: Callable[[Entry], Awaitable[None]] = sink.put
    return catch_up(ctx.log, resume, plan.selector, tail, put, go_live)


def _key(offset: str) -> OffsetKey:
    return offset_key(offset) if offset else (0, 0)


def refusal(exc: HeraldError) -> dict[str, Any]:
    """The ``{error, detail}`` answer to a refused request (plus ``retryAfter`` when limited)."""
    body: dict[str, Any] = {"error": exc.code, "detail": exc.detail}
    if isinstance(exc, RateLimited):
        body["retryAfter"] = exc.retry_after
    return body
