"""The X source: pure parsers of X's web GraphQL responses, and the client that fetches them."""

from herald.sources.x.accounts import AccountStore
from herald.sources.x.parse import parse_tweets, parse_user, parse_users
from herald.sources.x.pollers import poll_followers, poll_mentions, poll_tweets
from herald.sources.x.source import XSource

__all__ = [
    "AccountStore",
    "XSource",
    "parse_tweets",
    "parse_user",
    "parse_users",
    "poll_followers",
    "poll_mentions",
    "poll_tweets",
]
