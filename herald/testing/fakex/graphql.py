"""``GET /i/api/graphql/{queryId}/{OperationName}``: the four operations herald calls.

Order per request: count it, check the session, spend the rate budget, apply a queued
fault, answer. Every answer after the session check carries ``x-rate-limit-*`` headers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from herald.testing.fakex import templates
from herald.testing.fakex.faults import (
    CHALLENGE_PAGE,
    GARBAGE,
    Fault,
    cut_page,
    status_error,
)
from herald.testing.fakex.limits import Budget
from herald.testing.fakex.responses import BadVariables, Responder
from herald.testing.fakex.service import FakeX, fakex_of
from herald.testing.fakex.session import NOT_AUTHENTICATED, session_error, x_error

router = APIRouter()
Json = dict[str, Any]


def operations(responder: Responder) -> dict[str, Callable[[Json], Json]]:
    return {
        "UserByScreenName": responder.user_by_screen_name,
        "UserTweets": responder.user_tweets,
        # the stand-in's timelines hold replies anyway: one answer serves both
        "UserTweetsAndReplies": responder.user_tweets,
        "Followers": responder.followers,
        "SearchTimeline": responder.search,
    }


@router.get("/i/api/graphql/{query_id}/{operation}")
async def graphql(query_id: str, operation: str, request: Request) -> Response:
    fake = fakex_of(request)
    fake.requests[operation] += 1
    if fake.from_page(request):
        fake.page_requests[operation] += 1
    refused = session_error(request)
    if refused is not None:
        return refused
    handler = operations(fake.responder).get(operation)
    if handler is None:
        return x_error(404, 34, "Sorry, that page does not exist.")
    budget, allowed = fake.limits.spend(request.cookies["auth_token"], operation)
    if not allowed:
        return x_error(429, *status_error(429), headers=budget.headers())
    fault = fake.faults.take(operation, from_page=fake.from_page(request))
    if fault is not None and fault.mode != "short":
        return await fault_response(fault, operation, request, fake, budget)
    try:
        body = handler(_variables(request))
    except BadVariables as exc:
        return JSONResponse({"errors": [{"message": str(exc)}]}, 400, headers=budget.headers())
    if fault is not None:  # short: the real answer, cut
        body = cut_page(body, fault.keep)
    return JSONResponse(body, headers=budget.headers())


def _variables(request: Request) -> Json:
    try:
        variables = json.loads(request.query_params.get("variables") or "{}")
    except json.JSONDecodeError as exc:
        raise BadVariables(f"variables is not JSON: {exc}") from exc
    if not isinstance(variables, dict):
        raise BadVariables("variables must be a JSON object")
    return variables


async def fault_response(
    fault: Fault, operation: str, request: Request, fake: FakeX, budget: Budget
) -> Response:
    headers = budget.headers()
    if fault.mode == "timeout":
        await hang(request, fault.seconds, fake.release)
        return x_error(504, 131, "Gateway timeout", headers=headers)
    if fault.mode == "garbage":
        return Response(GARBAGE, 200, headers=headers, media_type="application/json")
    if fault.mode == "empty":
        return JSONResponse(templates.empty_timeline(operation), headers=headers)
    if fault.mode == "signature_refused":  # as X answers a stale x-client-transaction-id
        return Response(b"", 404, headers=headers)
    if fault.mode == "challenge":
        return Response(CHALLENGE_PAGE, 403, headers=headers, media_type="text/html")
    if fault.mode == "logged_out":
        return JSONResponse(templates.error_body(*NOT_AUTHENTICATED), headers=headers)
    status = fault.status or 500
    if status == 429:
        headers = fake.limits.exhausted(fault.reset_in).headers()
    return x_error(status, *status_error(status), headers=headers)


async def hang(request: Request, seconds: float, release: asyncio.Event) -> None:
    """Wait like a stuck upstream, until the client gives up, the app stops, or ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not release.is_set() and loop.time() < deadline:
        if await request.is_disconnected():
            return
        try:
            await asyncio.wait_for(release.wait(), timeout=min(0.1, deadline - loop.time()))
        except TimeoutError:
            continue
