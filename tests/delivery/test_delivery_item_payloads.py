"""Filters and terminal lines work on any item payload the catalog declares, not only
``tweet`` and ``mention``: a feed's ``entry`` (title, summary) and a ``post`` alike."""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import pytest

from herald.cli.render import event_summary
from herald.delivery.filters import parse_filter
from herald.delivery.terminal import summary
from herald.events import EventType
from herald.sources import catalog
from herald.sources.types import StreamType, Target
from tests.platforms import demo

ENTRY = StreamType(
    name="feedtest:entry",
    platform="feedtest",
    summary="entries of a test feed",
    target=Target(description="a feed URL", example="https://example.org/feed", validate=str),
    diff="posts",
    new_event=EventType.ENTRY_NEW,
    payload_key="entry",
    payload=lambda item: dict(item),
    payload_schema={"type": "object"},
)


@pytest.fixture(autouse=True)
def feed_platform() -> Iterator[None]:
    module = types.ModuleType("feedtest")
    module.STREAM_TYPES = (ENTRY,)  # type: ignore[attr-defined]
    module.build_source = demo.build_source  # type: ignore[attr-defined]
    with catalog.platform(module), catalog.platform(demo):
        yield


def entry(**item: Any) -> dict[str, Any]:
    return {"type": "stream:entry:new", "platform": "feedtest", "entry": {"id": "e1", **item}}


def post(**item: Any) -> dict[str, Any]:
    return {"type": "stream:post:new", "platform": "demo", "post": {"id": "1", **item}}


def matches(raw: dict[str, Any], body: dict[str, Any]) -> bool:
    compiled = parse_filter(raw)
    assert compiled is not None
    return compiled(body)


def test_keywords_and_regex_search_title_and_summary() -> None:
    news = entry(title="Rust 2.0 released", summary="The compiler is faster", author="Ann Lee")
    assert matches({"keywords": ["rust"]}, news)
    assert matches({"keywords": ["faster"]}, news)  # the summary too
    assert matches({"keywords": ["rust", "compiler"], "keywordMode": "all"}, news)
    assert not matches({"keywords": ["python"]}, news)
    assert matches({"keywords": ["released"], "wholeWord": True}, news)
    assert matches({"regex": r"^Rust \d"}, news)
    assert matches({"regex": "(?m)^The compiler"}, news)
    assert not matches({"keywords": ["rust"]}, entry(link="https://example.org/1"))


def test_authors_match_any_payload() -> None:
    assert matches({"authors": ["zoe"]}, post(text="hi", author="zoe"))
    assert not matches({"authors": ["zoe"]}, post(text="hi", author="ida"))
    assert matches({"authors": ["ann lee"]}, entry(title="t", author="Ann Lee"))
    assert not matches({"excludeAuthors": ["@zoe"]}, post(text="hi", author="Zoe"))
    assert matches({"excludeAuthors": ["zoe"]}, entry(title="no author"))
    lifecycle = {"type": "stream:started", "platform": "demo"}
    assert not matches({"authors": ["zoe"]}, lifecycle)
    assert matches({"excludeAuthors": ["zoe"]}, lifecycle)


def test_terminal_and_cli_lines_for_any_item() -> None:
    assert summary(post(text="a  new\nthing", author="zoe")) == "@zoe: a new thing"
    assert summary(entry(title="Big news", author="Ann Lee")) == "Ann Lee: Big news"
    assert summary(entry(link="https://example.org/1")) == "https://example.org/1"
    assert summary({"follower": {"id": "1", "username": "bob", "name": "Bob"}}) == "@bob"
    assert summary({"unfollower": {"id": "1", "username": "bob"}}) == "@bob"
    assert event_summary(entry(title="x" * 300)).endswith("…")
    assert len(event_summary(entry(title="x" * 300))) == 140
    assert event_summary({"type": "stream:gap", "reason": "too many new items"}) == (
        "too many new items"
    )
