"""The control API under ``/_fakedon``: change the world, close feeds, spend budgets, queue
faults, read request counts."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from herald.testing.fakedon.api import fake_of
from herald.testing.fakedon.service import FEEDS, REFUSALS, Fault

ACCESS = ("public", "authenticated", "disabled")


class Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Refused(400, "body: not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "body: must be an object")
    return body


def _text(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > 5000:
        raise Refused(400, f"{name}: required, a non-empty string")
    return value.strip()


def _account(request: Request, name: str) -> dict[str, Any]:
    account = fake_of(request).world.find(name)
    if account is None:
        raise Refused(404, f"no account {name!r}")
    return account


def handled(fn: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            result = await fn(request)
        except Refused as exc:
            return JSONResponse({"error": exc.detail}, exc.status)
        return result if isinstance(result, Response) else JSONResponse(result)

    return endpoint


async def create_account(request: Request) -> Any:
    """``{username, displayName?, hideFollowers?}``; an existing account is returned."""
    body = await _body(request)
    world = fake_of(request).world
    account = world.create_account(
        _text(body, "username"), str(body.get("displayName") or ""), bool(body.get("locked"))
    )
    if body.get("hideFollowers"):
        world.hidden_followers.add(account["id"])
    return JSONResponse(account, 201)


async def post_status(request: Request) -> Any:
    """``{account, text, visibility?}``: hashtags and @mentions in the text take effect."""
    body = await _body(request)
    visibility = str(body.get("visibility") or "public")
    if visibility not in ("public", "unlisted", "private", "direct"):
        raise Refused(400, "visibility: public, unlisted, private or direct")
    author = _account(request, _text(body, "account"))
    status = fake_of(request).world.post(author, _text(body, "text"), visibility)
    return JSONResponse({"id": status["id"], "url": status["url"]}, 201)


async def mention(request: Request) -> Any:
    """``{from, to, text?}``: ``from`` posts "@to text", which notifies ``to``."""
    body = await _body(request)
    sender = _account(request, _text(body, "from"))
    target = _account(request, _text(body, "to"))
    text = f"@{target['username']} {_text(body, 'text', required=False) or 'hello'}"
    status = fake_of(request).world.post(sender, text)
    return JSONResponse({"id": status["id"]}, 201)


async def follow(request: Request) -> Any:
    """``{username}`` follows the account in the path (created when unknown)."""
    body = await _body(request)
    world = fake_of(request).world
    target = _account(request, request.path_params["username"])
    follower = world.create_account(_text(body, "username"))
    added = world.follow(target, follower)
    return JSONResponse({"added": added, "followers": target["followers_count"]}, 201)


async def unfollow(request: Request) -> Any:
    world = fake_of(request).world
    target = _account(request, request.path_params["username"])
    follower = _account(request, request.path_params["follower"])
    if not world.unfollow(target, follower):
        raise Refused(404, "not a follower")
    return {"removed": True, "followers": target["followers_count"]}


async def token(request: Request) -> Any:
    """``{token, account}``: the token signs in as the account."""
    body = await _body(request)
    account = _account(request, _text(body, "account"))
    fake_of(request).world.tokens[_text(body, "token")] = account["id"]
    return JSONResponse({"account": account["acct"]}, 201)


async def timelines(request: Request) -> Any:
    """``{access, feeds?, answer?}``: who may read the live/hashtag feeds (4.5
    ``timelines_access``), and how a closed feed answers an anonymous caller: 401, 403,
    422 (Mastodon's own) or "empty"."""
    body = await _body(request)
    fake = fake_of(request)
    access = body.get("access", "disabled")
    if access not in ACCESS:
        raise Refused(400, f"access: one of {', '.join(ACCESS)}")
    feeds = body.get("feeds", list(FEEDS))
    parts = body.get("parts", ["local", "remote"])
    if not isinstance(feeds, list) or not set(feeds) <= set(FEEDS):
        raise Refused(400, f"feeds: a list of {', '.join(FEEDS)}")
    if not isinstance(parts, list) or not set(parts) <= {"local", "remote"}:
        raise Refused(400, "parts: a list of local, remote")
    how = body.get("answer", 422)
    if how != "empty" and how not in REFUSALS:
        raise Refused(400, "answer: 401, 403, 422 or empty")
    for feed in feeds:
        for part in parts:
            fake.access[feed][part] = access
    fake.refusal = how
    return {"timelines_access": fake.access, "answer": how}


async def ratelimit(request: Request) -> Any:
    """``{remaining, resetIn?, limit?, retryAfter?}``: the budget every caller sees next; at
    0 requests answer 429 until the reset."""
    body = await _body(request)
    fake = fake_of(request)
    remaining = body.get("remaining", 0)
    reset_in = body.get("resetIn", 60)
    if not isinstance(remaining, int) or remaining < 0:
        raise Refused(400, "remaining: a whole number, 0 or more")
    if not isinstance(reset_in, int | float) or reset_in <= 0:
        raise Refused(400, "resetIn: seconds, more than 0")
    if isinstance(body.get("limit"), int) and body["limit"] > 0:
        fake.budget.limit = body["limit"]
    fake.retry_after = bool(body.get("retryAfter"))
    fake.budget.forced = (remaining, fake.clock() + float(reset_in))
    return {"remaining": remaining, "resetIn": reset_in}


async def faults(request: Request) -> Any:
    """``{status, count?}``: the next ``count`` API requests answer ``status``."""
    body = await _body(request)
    status, count = body.get("status", 500), body.get("count", 1)
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise Refused(400, "status: 400-599")
    if not isinstance(count, int) or count < 1:
        raise Refused(400, "count: 1 or more")
    fake = fake_of(request)
    fake.faults.append(Fault(status, count))
    return JSONResponse({"pending": sum(f.count for f in fake.faults)}, 201)


async def requests_seen(request: Request) -> Any:
    counts = fake_of(request).requests
    return {"total": sum(counts.values()), "paths": dict(counts)}


async def reset(request: Request) -> Any:
    fake_of(request).reset()
    return {"reset": True}


routes = [
    Route("/_fakedon/accounts", handled(create_account), methods=["POST"]),
    Route("/_fakedon/statuses", handled(post_status), methods=["POST"]),
    Route("/_fakedon/mentions", handled(mention), methods=["POST"]),
    Route("/_fakedon/accounts/{username}/followers", handled(follow), methods=["POST"]),
    Route(
        "/_fakedon/accounts/{username}/followers/{follower}",
        handled(unfollow),
        methods=["DELETE"],
    ),
    Route("/_fakedon/tokens", handled(token), methods=["POST"]),
    Route("/_fakedon/timelines", handled(timelines), methods=["POST"]),
    Route("/_fakedon/ratelimit", handled(ratelimit), methods=["POST"]),
    Route("/_fakedon/faults", handled(faults), methods=["POST"]),
    Route("/_fakedon/requests", handled(requests_seen), methods=["GET"]),
    Route("/_fakedon/reset", handled(reset), methods=["POST"]),
]
