"""Filters: each kind on its own, validation errors naming the field, and sharing by key."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
import websockets
from delivery_helpers import Server, append, tweet, wait_for

from herald.delivery.filters import parse_filter
from herald.errors import ValidationError
from herald.events import EventType

pytestmark = pytest.mark.timeout(30)


def body(**kwargs: Any) -> dict[str, Any]:
    return tweet(1, **kwargs).body()


def matches(raw: dict[str, Any], **kwargs: Any) -> bool:
    compiled = parse_filter(raw)
    assert compiled is not None
    return compiled(body(**kwargs))


def test_keywords_any_all_case_and_whole_word() -> None:
    assert matches({"keywords": ["python", "rust"]}, text="I like Rust")
    assert not matches({"keywords": ["python", "rust"], "keywordMode": "all"}, text="I like Rust")
    assert matches({"keywords": ["python", "rust"], "keywordMode": "all"}, text="rust+Python")
    assert not matches({"keywords": ["Rust"], "caseSensitive": True}, text="rust")
    assert matches({"keywords": ["Rust"], "caseSensitive": True}, text="Rust!")
    assert matches({"keywords": ["cat"]}, text="concatenate")
    assert not matches({"keywords": ["cat"], "wholeWord": True}, text="concatenate")
    assert matches({"keywords": ["cat"], "wholeWord": True}, text="a CAT, sat")


def test_authors_allow_and_deny() -> None:
    assert matches({"authors": ["@Alice"]}, author="alice")
    assert not matches({"authors": ["bob"]}, author="alice")
    assert not matches({"excludeAuthors": ["ALICE"]}, author="alice")
    assert matches({"excludeAuthors": ["bob"]}, author="alice")


def test_exclude_retweets_and_replies() -> None:
    assert not matches({"excludeRetweets": True}, is_retweet=True)
    assert matches({"excludeRetweets": True}, is_reply=True)
    assert not matches({"excludeReplies": True}, is_reply=True)
    assert matches({"excludeReplies": True, "excludeRetweets": True})


def test_regex_is_linear_time_and_validated() -> None:
    assert matches({"regex": r"number \d+$"})
    assert not matches({"regex": r"^\d+$"})
    evil = parse_filter({"regex": "(a+)+$"})
    assert evil is not None
    started = time.perf_counter()
    assert not evil(body(text="a" * 5000 + "!"))
    assert time.perf_counter() - started < 0.5
    with pytest.raises(ValidationError, match=r"filters\.regex"):
        parse_filter({"regex": r"(a)\1"})  # backreferences cannot be linear
    with pytest.raises(ValidationError, match=r"filters\.regex"):
        parse_filter({"regex": "a" * 600})


def test_language() -> None:
    assert matches({"languages": ["EN", "fr"]}, lang="en")
    assert not matches({"languages": ["fr"]}, lang="en")


def test_events_without_an_item_fail_content_filters_and_pass_exclusions() -> None:
    count = {"type": EventType.FOLLOWER_COUNT.value, "followersCount": 5}
    keyword = parse_filter({"keywords": ["x"]})
    exclusion = parse_filter({"excludeRetweets": True})
    assert keyword is not None and exclusion is not None
    assert not keyword(count)
    assert exclusion(count)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"keywords": "python"}, "filters.keywords"),
        ({"keywordMode": "some", "keywords": ["a"]}, "filters.keywordMode"),
        ({"caseSensitive": "yes"}, "filters.caseSensitive"),
        ({"authors": [""]}, "filters.authors"),
        ({"languages": [1]}, "filters.languages"),
        ({"colour": "red"}, "filters.colour"),
    ],
)
def test_invalid_filters_name_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        parse_filter(raw)


def test_equal_filters_share_a_key() -> None:
    a = parse_filter({"keywords": ["b", "A"], "authors": ["x"]})
    b = parse_filter({"authors": ["X"], "keywords": ["a", "b", "a"]})
    assert a is not None and b is not None and a.key == b.key


async def test_filtered_subscriptions_end_to_end_share_one_group(server: Server) -> None:
    req = {
        "type": "events:stream:v1:requested",
        "id": "f",
        "payload": {"filters": {"keywords": ["launch"], "excludeRetweets": True}},
    }
    received: list[list[str]] = [[], []]
    async with websockets.connect(server.ws_url) as a, websockets.connect(server.ws_url) as b:
        for ws in (a, b):
            await ws.send(orjson.dumps(req).decode())
        await wait_for(lambda: server.delivery.hub.group_count == 1)
        events = [
            tweet(1, text="the launch is today"),
            tweet(2, text="nothing here"),
            tweet(3, text="launch retweeted", is_retweet=True),
            tweet(4, text="LAUNCH again"),
        ]
        await append(server.redis, server.keys, events)
        for ws, out in zip((a, b), received, strict=True):
            while len(out) < 2:
                msg = orjson.loads(await ws.recv())
                if msg["type"] == "events:stream:v1:stream":
                    out.append(msg["payload"]["tweet"]["id"])
    assert received == [["1", "4"], ["1", "4"]]
