"""``x:search``: its target rule, its reader's paging and gap, and the recorded search read in
both schema generations."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from herald.errors import EmptyResponse, SchemaError, ValidationError
from herald.sources.base import PollContext
from herald.sources.catalog import stream_types
from herald.sources.x import parse_tweets
from herald.sources.x.readers import read_search
from herald.sources.x.types import MAX_QUERY, QUERY_PATTERN, search_query
from herald.testing.fakex import templates as t
from herald.testing.fakex.state import FakeTweet, FakeUser

Json = dict[str, Any]
USER = FakeUser("42", "alice", "Alice", datetime(2026, 1, 1, tzinfo=UTC))
AUTHOR = t.user_result(USER, t.Counts(followers=0, following=0, tweets=0))
OLD = [str(1_000_000 + i) for i in range(10)]  # seen by the last poll, oldest first


# --- the target ----------------------------------------------------------------------------
def test_the_entry_names_its_events_and_payload() -> None:
    spec = stream_types().get("x:search")
    assert (spec.platform, spec.diff, spec.payload_key) == ("x", "posts", "tweet")
    assert spec.new_event.value == "stream:tweet:new"
    assert spec.target.validate("  #python ") == "#python"


@pytest.mark.parametrize(
    "query",
    ["#python", "from:nasa -filter:replies", '"release notes" OR changelog', "é 👨‍👩‍👧 lang:fr"],
)
def test_queries_as_typed_in_the_search_box_are_kept(query: str) -> None:
    assert search_query(query) == query


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a" * (MAX_QUERY + 1), f"{MAX_QUERY + 1} characters"),
        ("python\nrust", "line break"),
        ("python\trust", "control character"),
        ("a\u2028b", "line break"),
        (42, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_bad_queries_are_refused_naming_the_target(value: object, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        search_query(value)
    assert caught.value.detail.startswith("target: ") and says in caught.value.detail


@pytest.mark.parametrize(
    "value",
    [
        "#python",
        " \t#python\r\n",
        "",
        " ",
        "a\nb",
        "a\tb",
        "a\u2028b",
        "é 👨‍👩‍👧",
        "x" * 500,
        "x" * 501,
    ],
)
def test_the_documented_pattern_says_what_the_rule_accepts(value: str) -> None:
    try:
        accepted = bool(search_query(value))
    except ValidationError:
        accepted = False
    assert bool(re.match(QUERY_PATTERN, value)) is accepted


def test_the_longest_query_is_accepted() -> None:
    assert len(search_query("b" * MAX_QUERY)) == MAX_QUERY


# --- the reader ----------------------------------------------------------------------------
def entry(tweet_id: str) -> Json:
    return t.tweet_entry(
        t.tweet_result(FakeTweet(tweet_id, USER.id, f"#python {tweet_id}"), AUTHOR, [])
    )


def search_page(ids: list[str], bottom: str | None, *, first: bool = True) -> Json:
    cursors = [t.cursor_entry("Top", "top", "9")]
    if bottom is not None:
        cursors.append(t.cursor_entry("Bottom", bottom, "1"))
    return t.search([entry(i) for i in ids], cursors, first_page=first)


class Pages:
    """SearchTimeline pages by cursor, newest first, 20 a page, like X's Latest tab."""

    def __init__(self, newest_first: list[str], size: int = 20) -> None:
        self.pages: dict[str | None, Json] = {}
        self.asked: list[Mapping[str, Any]] = []
        chunks = [newest_first[i : i + size] for i in range(0, len(newest_first), size)] or [[]]
        for number, chunk in enumerate(chunks):
            key = None if number == 0 else f"p{number}"
            self.pages[key] = search_page(chunk, f"p{number + 1}", first=number == 0)
        self.pages[f"p{len(chunks)}"] = search_page([], f"p{len(chunks)}", first=False)

    async def call(self, operation: str, variables: Mapping[str, Any]) -> Json:
        assert operation == "SearchTimeline"
        self.asked.append(variables)
        return self.pages[variables.get("cursor")]


def context(*, baseline: bool = False, query: str = "#python") -> PollContext:
    return PollContext(
        stream_id="s1",
        type="x:search",
        username=query,
        baseline=baseline,
        high_water=0 if baseline else int(OLD[-1]),
    )


async def test_it_asks_the_latest_tab_for_the_query_as_typed() -> None:
    pages = Pages(OLD[::-1])
    await read_search(pages.call, context(query='"herald" -from:bob'), max_pages=5)
    assert pages.asked[0] == {"rawQuery": '"herald" -from:bob', "product": "Latest"}


async def test_it_pages_until_what_was_seen_and_no_further() -> None:
    new = [str(2_000_000 + i) for i in range(45)]
    pages = Pages(new[::-1] + OLD[::-1])
    found = await read_search(pages.call, context(), max_pages=5)
    assert [v.get("cursor") for v in pages.asked] == [None, "p1", "p2"]
    assert found.gap is None
    assert set(new) <= {tweet.id for tweet in found.items}


async def test_nothing_new_costs_one_request() -> None:
    pages = Pages(OLD[::-1])
    found = await read_search(pages.call, context(), max_pages=5)
    assert len(pages.asked) == 1 and found.gap is None
    assert {tweet.id for tweet in found.items} == set(OLD)


async def test_the_baseline_reads_one_page() -> None:
    pages = Pages([str(2_000_000 + i) for i in range(70)][::-1])
    found = await read_search(pages.call, context(baseline=True), max_pages=5)
    assert len(pages.asked) == 1 and found.gap is None and len(found.items) == 20


async def test_more_new_tweets_than_max_pages_hold_give_a_gap() -> None:
    new = [str(2_000_000 + i) for i in range(70)]
    pages = Pages(new[::-1] + OLD[::-1])
    found = await read_search(pages.call, context(), max_pages=3)
    assert len(pages.asked) == 3
    assert [tweet.id for tweet in found.items] == new[::-1][:60]
    assert found.gap is not None and found.gap.pages == 3
    assert "3 pages of new tweets matching the search" in found.gap.reason
    assert "HERALD_MAX_PAGES" in found.gap.reason


async def test_a_search_that_finds_nothing_is_not_an_error() -> None:
    pages = Pages([])
    found = await read_search(pages.call, context(), max_pages=5)
    assert found.items == [] and found.gap is None


async def test_an_answer_without_entries_is_a_failed_fetch() -> None:
    async def call(operation: str, variables: Mapping[str, Any]) -> Json:
        return t.empty_timeline("SearchTimeline")

    with pytest.raises(EmptyResponse, match="search for '#python'"):
        await read_search(call, context(), max_pages=5)


# --- the recorded search, in both schema generations ---------------------------------------
_CORE = {"screen_name": "screen_name", "name": "name", "created_at": "created_at"}


def as_2025(user: Json) -> None:
    """A 2026 user result rewritten with the 2025 generation's fields (``legacy.*``)."""
    core = user.pop("core")
    legacy = {old: core[new] for new, old in _CORE.items() if new in core}
    legacy["followers_count"] = user.pop("relationship_counts", {}).get("followers", 0)
    legacy["statuses_count"] = user.pop("tweet_counts", {}).get("tweets", 0)
    legacy["description"] = user.pop("profile_bio", {}).get("description", "")
    user["legacy"] = {**user.get("legacy", {}), **legacy}


def users(obj: Any) -> list[Json]:
    """Every user result in a response (authors, quoted authors, retweeted authors)."""
    found: list[Json] = []
    if isinstance(obj, dict):
        if obj.get("__typename") == "User" and "rest_id" in obj:
            found.append(obj)
        for value in obj.values():
            found.extend(users(value))
    elif isinstance(obj, list):
        for value in obj:
            found.extend(users(value))
    return found


@pytest.fixture
def recorded(fixtures_dir: Path) -> Json:
    raw: Json = json.loads((fixtures_dir / "x" / "raw_search.json").read_text("utf-8"))
    return raw


def test_the_recorded_search_is_the_2026_generation(recorded: Json) -> None:
    authors = users(recorded)
    assert authors and all("core" in u and "legacy" not in u for u in authors)


def test_the_recorded_search_reads_the_same_in_the_2025_generation(recorded: Json) -> None:
    old = copy.deepcopy(recorded)
    for user in users(old):
        as_2025(user)
    assert not any("core" in u for u in users(old))
    new_page, old_page = parse_tweets(recorded), parse_tweets(old)
    assert len(new_page.tweets) == 20
    assert old_page.tweets == new_page.tweets
    assert old_page.cursor_bottom == new_page.cursor_bottom


def test_a_user_in_neither_generation_fails_loudly(recorded: Json) -> None:
    broken = copy.deepcopy(recorded)
    first = users(broken)[0]
    del first["core"]
    with pytest.raises(SchemaError) as caught:
        parse_tweets(broken)
    assert "core.screen_name" in str(caught.value) and "legacy.screen_name" in str(caught.value)
