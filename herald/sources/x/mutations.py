"""X's write operations: what herald sends for each command type, and what it reads back.

The variables follow what x.com's web app sends, as the open-source clients record it
(twikit's ``GQLClient.create_tweet``, ``delete_tweet``, ``favorite_tweet``,
``unfavorite_tweet``, ``retweet`` and ``delete_retweet`` in ``twikit/client/gql.py``). The
answers read are the paths twikit parses: ``data.create_tweet.tweet_results.result`` (a
tweet result, the same shape as a timeline's), ``data.create_retweet.retweet_results.result``,
``data.unretweet.source_tweet_results.result``, ``data.favorite_tweet`` /
``data.unfavorite_tweet`` (``"Done"``) and ``data.delete_tweet``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.errors import SchemaError
from herald.sources.x.parse import parse_tweet_result

Json = dict[str, Any]

OPERATIONS: dict[str, str] = {
    "post_tweet": "CreateTweet",
    "delete_tweet": "DeleteTweet",
    "like_tweet": "FavoriteTweet",
    "unlike_tweet": "UnfavoriteTweet",
    "retweet": "CreateRetweet",
    "unretweet": "DeleteRetweet",
}
"""The GraphQL mutation behind each command type."""

ALREADY_DONE: dict[str, frozenset[int]] = {
    "like_tweet": frozenset({139}),  # "You have already favorited this Tweet."
    "retweet": frozenset({327}),  # "You have already retweeted this Tweet."
}
"""X's refusals that mean the wanted state already holds: a success, not a failure."""

GONE_ON_RETRY: dict[str, frozenset[int]] = {
    "delete_tweet": frozenset({144}),  # "No status found with that ID."
}
"""Refusals that, when re-issuing an uncertain command, mean the first attempt applied."""


@dataclass(frozen=True, slots=True)
class Mutation:
    operation: str
    variables: Json


def mutation(command_type: str, data: Mapping[str, Any]) -> Mutation:
    """The operation and variables of one validated command."""
    operation = OPERATIONS[command_type]
    if command_type == "post_tweet":
        variables: Json = {"tweet_text": data["text"]}
        if data.get("reply_to_tweet_id"):
            variables["reply"] = {
                "in_reply_to_tweet_id": data["reply_to_tweet_id"],
                "exclude_reply_user_ids": [],
            }
        if data.get("quote_tweet_id"):
            # The web app quotes by attaching the quoted tweet's URL (twikit: attachment_url).
            variables["attachment_url"] = f"https://x.com/i/status/{data['quote_tweet_id']}"
        return Mutation(operation, variables)
    if command_type == "unretweet":
        return Mutation(operation, {"source_tweet_id": data["tweet_id"]})
    return Mutation(operation, {"tweet_id": data["tweet_id"]})


def tweet_url(username: str | None, tweet_id: str) -> str:
    return f"https://x.com/{username or 'i'}/status/{tweet_id}"


def _dig(body: Any, path: str) -> Any:
    node = body
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def result_of(command_type: str, data: Mapping[str, Any], body: Json) -> Json:
    """The command's result (``herald.commands.base``) from X's answer to its mutation."""
    if command_type == "post_tweet":
        path = "data.create_tweet.tweet_results.result"
        tweet = parse_tweet_result(_dig(body, path), path)
        if tweet is None:
            raise SchemaError("X answered CreateTweet without the tweet", path=path)
        return {"tweetId": tweet.id, "url": tweet_url(tweet.author, tweet.id), "text": tweet.text}
    tweet_id = str(data["tweet_id"])
    if command_type == "delete_tweet":
        if not isinstance(_dig(body, "data.delete_tweet"), dict):
            raise SchemaError("X answered DeleteTweet without delete_tweet", path="data")
        return {"tweetId": tweet_id, "deleted": True}
    if command_type in ("like_tweet", "unlike_tweet"):
        key = "favorite_tweet" if command_type == "like_tweet" else "unfavorite_tweet"
        if _dig(body, f"data.{key}") is None:
            raise SchemaError(f"X answered without {key}", path="data")
        return {"tweetId": tweet_id, "liked": command_type == "like_tweet"}
    if command_type == "retweet":
        retweet_id = _dig(body, "data.create_retweet.retweet_results.result.rest_id")
        if _dig(body, "data.create_retweet") is None:
            raise SchemaError("X answered CreateRetweet without create_retweet", path="data")
        result: Json = {"tweetId": tweet_id, "retweeted": True}
        if isinstance(retweet_id, str) and retweet_id:
            result["retweetId"] = retweet_id
        return result
    if _dig(body, "data.unretweet") is None:
        raise SchemaError("X answered DeleteRetweet without unretweet", path="data")
    return {"tweetId": tweet_id, "retweeted": False}


def already_done(command_type: str, data: Mapping[str, Any]) -> Json:
    """The result of a like or retweet X says already holds (its retweet id unknown)."""
    if command_type == "like_tweet":
        return {"tweetId": str(data["tweet_id"]), "liked": True}
    if command_type == "retweet":
        return {"tweetId": str(data["tweet_id"]), "retweeted": True}
    if command_type == "delete_tweet":
        return {"tweetId": str(data["tweet_id"]), "deleted": True}
    raise ValueError(command_type)
