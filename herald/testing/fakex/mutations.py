"""``POST /i/api/graphql/{queryId}/{OperationName}``: the six mutations herald's commands send.

Bodies are ``{variables, queryId, features?}`` as x.com's web app posts them. Answers:

- ``CreateTweet`` -> ``data.create_tweet.tweet_results.result``: a tweet result built by the
  same template as the timeline's (tests hold it against a recorded ``UserTweets``); the
  tweet then shows in the author's timeline and in searches.
- ``DeleteTweet`` -> ``data.delete_tweet.tweet_results = {}``.
- ``FavoriteTweet`` / ``UnfavoriteTweet`` -> ``data.favorite_tweet`` /
  ``data.unfavorite_tweet`` = ``"Done"``.
- ``CreateRetweet`` -> ``data.create_retweet.retweet_results.result`` ``{rest_id, legacy:
  {full_text}}``; ``DeleteRetweet`` -> ``data.unretweet.source_tweet_results.result``.

These answer shapes are synthetic (no recording of an X write exists): they are the paths
the open-source clients parse (twikit's ``Client.create_tweet``, ``favorite_tweet``,
``retweet``, ``delete_retweet``; its ``gql.py`` for the variables). Refusals follow what
X sends: 139 already liked, 327 already retweeted, 144 no such tweet, 187 duplicate text.

Faults (``POST /_fakex/faults`` with ``operation``): ``automated`` (226) and ``locked`` (326)
answer HTTP 200 with X's GraphQL ``AuthorizationError`` body; ``timeout_after_commit``
applies the write, then stalls like a lost answer; a ``timeout`` stalls without applying it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from herald.testing.fakex.faults import Fault
from herald.testing.fakex.graphql import fault_response, hang
from herald.testing.fakex.service import FakeX, fakex_of
from herald.testing.fakex.session import session_error, x_error
from herald.testing.fakex.state import FakeUser

router = APIRouter()
Json = dict[str, Any]

AUTOMATED = (
    226,
    "Authorization: This request looks like it might be automated. To protect our users "
    "from spam and other malicious activity, we can't complete this action right now. "
    "Please try again later. (226)",
)
LOCKED = (
    326,
    "Authorization: Denied by access control: To protect our users from spam and other "
    "malicious activity, this account is temporarily locked. Please log in to "
    "https://x.com to unlock your account. (326)",
)
_PATHS = {
    "CreateTweet": "create_tweet",
    "DeleteTweet": "delete_tweet",
    "FavoriteTweet": "favorite_tweet",
    "UnfavoriteTweet": "unfavorite_tweet",
    "CreateRetweet": "create_retweet",
    "DeleteRetweet": "unretweet",
}


class Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def authorization_error(code: int, message: str, operation: str) -> Json:
    """X's GraphQL refusal of a write (HTTP 200, ``data: {}``), as reported by twikit and
    twitter-api-client users for 226."""
    detail = {"name": "AuthorizationError", "source": "Client", "code": code}
    error = {
        "message": message,
        "locations": [{"line": 18, "column": 3}],
        "path": [_PATHS.get(operation, operation)],
        "extensions": {**detail, "kind": "Permissions", "tracing": {"trace_id": "0" * 16}},
        **detail,
        "kind": "Permissions",
        "tracing": {"trace_id": "0" * 16},
    }
    return {"errors": [error], "data": {}}


def _tweet_id(variables: Json, name: str = "tweet_id") -> str:
    value = variables.get(name)
    if not isinstance(value, str) or not value.isdigit():
        raise Refused(214, f'Variable "${name}" of required type "NumericString!" missing.')
    return value


class Writes:
    """The mutations, applied to one stand-in's world as ``user``."""

    def __init__(self, fake: FakeX, user: FakeUser) -> None:
        self.fake, self.world, self.user = fake, fake.world, user

    def handlers(self) -> dict[str, Callable[[Json], Json]]:
        return {
            "CreateTweet": self.create_tweet,
            "DeleteTweet": self.delete_tweet,
            "FavoriteTweet": self.favorite,
            "UnfavoriteTweet": self.unfavorite,
            "CreateRetweet": self.retweet,
            "DeleteRetweet": self.unretweet,
        }

    def _existing(self, tweet_id: str) -> None:
        if self.world.find_tweet(tweet_id) is None:
            raise Refused(144, "No status found with that ID.")

    def create_tweet(self, variables: Json) -> Json:
        text = variables.get("tweet_text")
        if not isinstance(text, str) or not text.strip():
            raise Refused(214, "Missing tweet_text.")
        reply = variables.get("reply")
        reply_to = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        attachment = variables.get("attachment_url")
        quoted = attachment.rsplit("/", 1)[-1] if isinstance(attachment, str) else None
        for target in (reply_to, quoted):
            if target is not None:
                self._existing(str(target))
        last = next(iter(self.world.tweets_by(self.user.id)), None)
        if last is not None and last.text == text:
            raise Refused(187, "Status is a duplicate.")
        tweet = self.world.post(
            self.user, text, reply_to=str(reply_to) if reply_to else None, quoted_id=quoted
        )
        result = self.fake.responder.tweet_result(tweet)
        return {"data": {"create_tweet": {"tweet_results": {"result": result}}}}

    def delete_tweet(self, variables: Json) -> Json:
        tweet = self.world.find_tweet(_tweet_id(variables))
        if tweet is None or tweet.author_id != self.user.id:
            raise Refused(144, "No status found with that ID.")
        self.world.delete(tweet)
        return {"data": {"delete_tweet": {"tweet_results": {}}}}

    def _count(self, tweet_id: str, metric: str, delta: int) -> None:
        counts = self.world.metrics.setdefault(tweet_id, {})
        counts[metric] = max(counts.get(metric, 0) + delta, 0)

    def favorite(self, variables: Json) -> Json:
        tweet_id = _tweet_id(variables)
        self._existing(tweet_id)
        liked = self.world.likes.setdefault(self.user.id, set())
        if tweet_id in liked:
            raise Refused(139, "You have already favorited this Tweet.")
        liked.add(tweet_id)
        self._count(tweet_id, "likes", 1)
        return {"data": {"favorite_tweet": "Done"}}

    def unfavorite(self, variables: Json) -> Json:
        tweet_id = _tweet_id(variables)
        self._existing(tweet_id)
        liked = self.world.likes.setdefault(self.user.id, set())
        if tweet_id in liked:
            liked.discard(tweet_id)
            self._count(tweet_id, "likes", -1)
        return {"data": {"unfavorite_tweet": "Done"}}

    def retweet(self, variables: Json) -> Json:
        tweet_id = _tweet_id(variables)
        self._existing(tweet_id)
        key = (self.user.id, tweet_id)
        if key in self.world.retweets:
            raise Refused(327, "You have already retweeted this Tweet.")
        retweet_id = self.world.ids.now()
        self.world.retweets[key] = retweet_id
        self._count(tweet_id, "retweets", 1)
        source = self.world.find_tweet(tweet_id)
        text = f"RT @{self.world.users[source.author_id].username}: {source.text}" if source else ""
        result = {"rest_id": retweet_id, "legacy": {"full_text": text}}
        return {"data": {"create_retweet": {"retweet_results": {"result": result}}}}

    def unretweet(self, variables: Json) -> Json:
        tweet_id = _tweet_id(variables, "source_tweet_id")
        self._existing(tweet_id)
        if self.world.retweets.pop((self.user.id, tweet_id), None) is not None:
            self._count(tweet_id, "retweets", -1)
        source = self.world.find_tweet(tweet_id)
        result = {"rest_id": tweet_id, "legacy": {"full_text": source.text if source else ""}}
        return {"data": {"unretweet": {"source_tweet_results": {"result": result}}}}


def _body(raw: bytes) -> Json:
    try:
        body = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise Refused(214, f"body is not JSON: {exc}") from exc
    variables = body.get("variables") if isinstance(body, dict) else None
    if not isinstance(variables, dict):
        raise Refused(214, "variables must be a JSON object")
    return variables


@router.post("/i/api/graphql/{query_id}/{operation}")
async def mutate(query_id: str, operation: str, request: Request) -> Response:
    fake = fakex_of(request)
    fake.requests[operation] += 1
    refused = session_error(request)
    if refused is not None:
        return refused
    writes = Writes(fake, fake.world.session_user(request.cookies["auth_token"]))
    handler = writes.handlers().get(operation)
    if handler is None:
        return x_error(404, 34, "Sorry, that page does not exist.")
    budget, allowed = fake.limits.spend(request.cookies["auth_token"], operation)
    headers = budget.headers()
    if not allowed:
        return x_error(429, 88, "Rate limit exceeded.", headers=headers)
    fault = fake.faults.take(operation)
    if fault is not None and fault.mode in ("automated", "locked"):
        code, message = AUTOMATED if fault.mode == "automated" else LOCKED
        return JSONResponse(authorization_error(code, message, operation), headers=headers)
    if fault is not None and fault.mode != "timeout_after_commit":
        return await fault_response(fault, operation, request, fake, budget)
    try:
        body = handler(_body(await request.body()))
    except Refused as exc:
        error = {"message": exc.message, "code": exc.code, "kind": "Operational"}
        return JSONResponse({"errors": [error], "data": {}}, headers=headers)
    if fault is not None:  # timeout_after_commit: applied, and the answer never comes
        await _lost_answer(fault, request, fake)
        return x_error(504, 131, "Gateway timeout", headers=headers)
    return JSONResponse(body, headers=headers)


async def _lost_answer(fault: Fault, request: Request, fake: FakeX) -> None:
    await hang(request, fault.seconds, fake.release)
