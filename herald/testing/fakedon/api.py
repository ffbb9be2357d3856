"""The Mastodon REST paths herald reads, answered in the recorded shapes and headers."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from herald.testing.fakedon.service import REFUSALS, FakeDon, keyed, page, params_of

NOT_SIGNED_IN = '{"error":"The access token is invalid"}'


def fake_of(request: Request) -> FakeDon:
    fake: FakeDon = request.app.state.fakedon
    return fake


def _caller(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    return auth or (request.client.host if request.client else "anon")


def answer(
    request: Request, body: Any, *, status: int = 200, link: str | None = None, raw: bool = False
) -> Response:
    """A JSON answer with the recorded headers, the budget, and a 429 once it is spent."""
    fake = fake_of(request)
    content = body.encode() if raw else orjson.dumps(body)
    headers, allowed = fake.headers(content, _caller(request))
    if not allowed:
        content = b'{"error":"Too many requests"}'
        headers.pop("etag", None)
        return Response(content, 429, headers=headers, media_type=None)
    if link:
        headers["link"] = link
    return Response(content, status, headers=headers, media_type=None)


def _account_of_token(request: Request) -> tuple[dict[str, Any] | None, bool]:
    """(account, a token was sent): an unknown token is refused like Mastodon does."""
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return None, False
    account_id = fake_of(request).world.tokens.get(auth[7:].strip())
    account = fake_of(request).world.accounts.get(account_id) if account_id else None
    return account, True


def _gate(request: Request, name: str) -> Response | None:
    """Count the request; answer a queued fault or a bad token."""
    fake = fake_of(request)
    fake.requests[name] += 1
    status = fake.take_fault()
    if status is not None:
        return answer(request, f'{{"error":"fakedon fault {status}"}}', status=status, raw=True)
    account, sent = _account_of_token(request)
    if sent and account is None:
        return answer(request, NOT_SIGNED_IN, status=401, raw=True)
    return None


def _not_found(request: Request) -> Response:
    return answer(request, fake_of(request).recordings.not_found, status=404, raw=True)


def _paged(request: Request, items: list[Any], path: str) -> Response:
    fake = fake_of(request)
    found, link = page(keyed(items), params_of(request.query_params), path, fake.world.base_url)
    return answer(request, found, link=link)


async def lookup(request: Request) -> Response:
    if (refused := _gate(request, "accounts/lookup")) is not None:
        return refused
    account = fake_of(request).world.find(request.query_params.get("acct", ""))
    return _not_found(request) if account is None else answer(request, account)


async def verify_credentials(request: Request) -> Response:
    if (refused := _gate(request, "accounts/verify_credentials")) is not None:
        return refused
    account, _ = _account_of_token(request)
    if account is None:
        return answer(request, NOT_SIGNED_IN, status=401, raw=True)
    return answer(request, account)


async def account_statuses(request: Request) -> Response:
    if (refused := _gate(request, "accounts/statuses")) is not None:
        return refused
    world = fake_of(request).world
    account_id = request.path_params["id"]
    if account_id not in world.accounts:
        return _not_found(request)
    if request.query_params.get("pinned"):
        return _paged(request, [], request.url.path)
    return _paged(request, world.account_statuses(account_id), request.url.path)


async def followers(request: Request) -> Response:
    if (refused := _gate(request, "accounts/followers")) is not None:
        return refused
    fake = fake_of(request)
    account_id = request.path_params["id"]
    if account_id not in fake.world.accounts:
        return _not_found(request)
    if account_id in fake.world.hidden_followers:
        return answer(request, [])
    pairs = fake.world.followers(account_id)
    found, link = page(
        pairs, params_of(request.query_params), request.url.path, fake.world.base_url
    )
    return answer(request, found, link=link)


def _feed(request: Request, feed: str, parts: tuple[str, ...]) -> Response | None:
    """A closed feed: each Mastodon 4.5 answer (422, 401, 403, or an empty list)."""
    fake = fake_of(request)
    account, _ = _account_of_token(request)
    closed = fake.closed(feed, parts, account is not None)
    if closed is None:
        return None
    if account is None and fake.refusal in REFUSALS:
        status = int(fake.refusal)
        return answer(request, REFUSALS[status], status=status, raw=True)
    return answer(request, [])


async def public(request: Request) -> Response:
    if (refused := _gate(request, "timelines/public")) is not None:
        return refused
    query = request.query_params
    local = query.get("local", "").lower() in ("1", "true")
    parts = ("local",) if local else ("local", "remote")
    if (closed := _feed(request, "live_feeds", parts)) is not None:
        return closed
    return _paged(request, fake_of(request).world.public(local), request.url.path)


async def hashtag(request: Request) -> Response:
    if (refused := _gate(request, "timelines/tag")) is not None:
        return refused
    if (closed := _feed(request, "hashtag_feeds", ("local", "remote"))) is not None:
        return closed
    world = fake_of(request).world
    local = request.query_params.get("local", "").lower() in ("1", "true")
    return _paged(request, world.public(local, request.path_params["tag"]), request.url.path)


async def notifications(request: Request) -> Response:
    if (refused := _gate(request, "notifications")) is not None:
        return refused
    account, _ = _account_of_token(request)
    if account is None:
        return answer(request, NOT_SIGNED_IN, status=401, raw=True)
    types = request.query_params.getlist("types[]")
    notes = fake_of(request).world.mention_notes(account["id"])
    notes = [n for n in notes if not types or n["type"] in types]
    return _paged(request, notes, request.url.path)


async def status(request: Request) -> Response:
    if (refused := _gate(request, "statuses")) is not None:
        return refused
    found = fake_of(request).world.statuses.get(request.path_params["id"])
    return _not_found(request) if found is None else answer(request, found)


async def instance_v2(request: Request) -> Response:
    if (refused := _gate(request, "instance")) is not None:
        return refused
    return answer(request, fake_of(request).instance_v2())


async def instance_v1(request: Request) -> Response:
    if (refused := _gate(request, "instance/v1")) is not None:
        return refused
    return answer(request, fake_of(request).instance_v1())


routes = [
    Route("/api/v1/accounts/lookup", lookup),
    Route("/api/v1/accounts/verify_credentials", verify_credentials),
    Route("/api/v1/accounts/{id}/statuses", account_statuses),
    Route("/api/v1/accounts/{id}/followers", followers),
    Route("/api/v1/timelines/public", public),
    Route("/api/v1/timelines/tag/{tag}", hashtag),
    Route("/api/v1/notifications", notifications),
    Route("/api/v1/statuses/{id}", status),
    Route("/api/v2/instance", instance_v2),
    Route("/api/v2/instance/", instance_v2),
    Route("/api/v1/instance", instance_v1),
    Route("/api/v1/instance/", instance_v1),
]
