"""``GET /`` (a small status page) and the account endpoint a session gets its ``ct0`` from."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from herald.testing.fakex.service import FakeX, fakex_of
from herald.testing.fakex.session import NOT_AUTHENTICATED, issue_ct0, x_error
from herald.testing.fakex.state import FakeUser

router = APIRouter()

CONTROL_API = (
    ("POST", "/_fakex/users", "{username, name?, followers?}"),
    ("POST", "/_fakex/users/{u}/tweets", "{text, pinned?} -> {id}"),
    ("POST", "/_fakex/users/{u}/followers", "{username}"),
    ("DELETE", "/_fakex/users/{u}/followers/{f}", ""),
    (
        "POST",
        "/_fakex/tweets/{id}/metrics",
        "{likes?, retweets?, replies?, quotes?, bookmarks?, views?}",
    ),
    ("POST", "/_fakex/tweets/{id}/pin", "pin it on its author's profile"),
    ("DELETE", "/_fakex/tweets/{id}", "delete a tweet"),
    ("POST", "/_fakex/users/{u}/dms", "{from, text, conversationId?} (synthetic DM shapes)"),
    ("POST", "/_fakex/users/{u}/dms/encrypted", "{from}: an end-to-end encrypted conversation"),
    ("POST", "/_fakex/sessions", "{authToken, username}: whom a session writes as and reads"),
    ("POST", "/_fakex/faults", "{status?, mode?, count, operation?, resetIn?, seconds?, keep?}"),
    ("DELETE", "/_fakex/faults", "drop every queued fault"),
    ("GET", "/_fakex/requests", "request counts per operation"),
    ("POST", "/_fakex/reset", "back to the seeded state"),
)


def _row(fake: FakeX, user: FakeUser) -> str:
    counts = fake.responder.counts(user)
    name = html.escape(user.username)
    cells = (f"@{name}", user.id, counts.followers, counts.tweets)
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> Response:
    fake = fakex_of(request)
    rows = "".join(_row(fake, u) for u in fake.world.users.values() if "_fan" not in u.username)
    api = "".join(
        f"<li><code>{m} {html.escape(p)}</code> {html.escape(b)}</li>" for m, p, b in CONTROL_API
    )
    page = (
        "<!doctype html><title>fakex</title><h1>fakex: a local X stand-in</h1>"
        "<p>Serves <code>/i/api/graphql/{queryId}/{Operation}</code> for UserByScreenName, "
        "UserTweets, Followers and SearchTimeline, and POSTs of CreateTweet, DeleteTweet, "
        "FavoriteTweet, UnfavoriteTweet, CreateRetweet and DeleteRetweet, and the "
        "direct-message inbox (<code>/i/api/1.1/dm/...</code>, synthetic shapes).</p>"
        f"<table><tr><th>user</th><th>id</th><th>followers</th><th>tweets</th></tr>{rows}</table>"
        f"<h2>Control API</h2><ul>{api}</ul>"
    )
    response = HTMLResponse(page)
    issue_ct0(request, response)
    return response


@router.get("/i/api/1.1/account/settings.json")
async def account_settings(request: Request) -> Response:
    """Where a session holding only ``auth_token`` picks up its ``ct0`` cookie."""
    if not request.cookies.get("auth_token"):
        return x_error(401, *NOT_AUTHENTICATED)
    user = fakex_of(request).world.session_user(request.cookies["auth_token"])
    response = JSONResponse(
        {"screen_name": user.username, "language": "en", "protected": False, "time_zone": None}
    )
    issue_ct0(request, response)
    return response
