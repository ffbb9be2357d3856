"""Sentiment at ingest: every post-like item is scored once, as its event is built, from
the real parsers' output on the recordings; other languages get no score, not 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald import sentiment
from herald.engine import changes
from herald.engine.diff import FollowerDiff, PostDiff
from herald.events import EventType
from herald.push.base import PushChange
from herald.sources.catalog import stream_types
from herald.sources.mastodon import parse_mentions, parse_statuses
from herald.sources.models import User
from herald.sources.rss import parse_feed
from herald.sources.types import StreamType, StreamTypes, Target
from herald.sources.x import parse_tweets
from herald.store.streams import StreamRecord
from herald.testing.fakedon.recordings import load_cassette

HOST = "localhost:3000"


def record(type_: str, target: str = "nasa") -> StreamRecord:
    return StreamRecord(id="s1", type=type_, username=target, interval=60, created_at=0)


def bodies(type_: str, items: list[Any]) -> list[dict[str, Any]]:
    diff: PostDiff[Any] = PostDiff(new=items, to_remember=items, high_water=0)
    return [e.body() for e in changes.post_events(record(type_), diff)]


def check_scored(item: dict[str, Any], field: str = "text") -> None:
    score = item["sentiment"]
    assert set(score) == {"compound", "label"}
    assert -1 <= score["compound"] <= 1
    assert score["label"] == sentiment.label_of(score["compound"])
    assert score == sentiment.score(item[field])


def json_answers(cassettes: Path, name: str) -> list[Any]:
    return [
        ex.json()
        for ex in load_cassette(cassettes / name)
        if ex.method == "GET"
        and ex.status == 200
        and ex.headers.get("content-type", "").startswith("application/json")
    ]


def test_x_tweets_are_scored_and_reserved_language_codes_count_as_unknown(
    fixtures_dir: Path,
) -> None:
    raw = json.loads((fixtures_dir / "x" / "raw_user_tweets.json").read_text("utf-8"))
    page = parse_tweets(raw)
    assert page.tweets
    langs = set()
    for body in bodies("tweet", page.tweets):
        tweet = body["tweet"]
        langs.add(tweet.get("lang"))
        check_scored(tweet)  # en, and zxx / qme (no language) alike
    assert "en" in langs
    for body in bodies("mention", page.tweets):
        check_scored(body["mention"])


def test_mastodon_posts_in_other_languages_get_no_score(fixtures_dir: Path) -> None:
    cassettes = fixtures_dir / "mastodon"
    statuses = [
        s
        for name in ("test_public_tl.yaml", "test_hashtag_tl.yaml", "test_home_tl.yaml")
        for answer in json_answers(cassettes, name)
        if isinstance(answer, list)
        for s in parse_statuses(answer, HOST)
    ]
    scored = unscored = 0
    for body in bodies("mastodon:public", statuses):
        post = body["post"]
        if sentiment.covers(post.get("lang")) and post["text"].strip():
            check_scored(post)
            scored += 1
        else:
            assert "sentiment" not in post
            unscored += 1
    assert scored and unscored, "the recordings hold English and Japanese statuses"
    mentions = [
        m
        for answer in json_answers(cassettes, "test_notifications_mentions_only.yaml")
        if isinstance(answer, list)
        for m in parse_mentions(answer, HOST)
    ]
    assert mentions
    for body in bodies("mastodon:mention", mentions):
        mention = body["mention"]
        assert ("sentiment" in mention) == sentiment.covers(mention.get("lang"))


def test_feed_entries_are_scored_by_their_title(fixtures_dir: Path) -> None:
    feed = parse_feed((fixtures_dir / "rss" / "guardian.rss").read_bytes(), "https://x.test/")
    for body in bodies("rss:feed", feed.entries):
        check_scored(body["entry"], "title")


def test_a_pushed_post_is_scored_like_a_polled_one(fixtures_dir: Path) -> None:
    lines = (fixtures_dir / "bluesky-jetstream" / "golden_v1.jsonl").read_text("utf-8")
    posts = [
        frame
        for frame in map(json.loads, lines.splitlines())
        if frame.get("commit", {}).get("collection") == "app.bsky.feed.post"
        and frame["commit"].get("record", {}).get("text")
    ]
    assert posts
    for frame in posts:
        rec = frame["commit"]["record"]
        post = {"id": frame["commit"]["rkey"], "text": rec["text"], "author": frame["did"]}
        if rec.get("langs"):
            post["lang"] = rec["langs"][0]
        change = PushChange("s1", EventType.POST_NEW, post["id"], {"post": post})
        body = changes.change_event(record("bsky:post"), change).body()
        assert "sentiment" not in post, "the change's own payload is not changed in place"
        if sentiment.covers(post.get("lang")):
            check_scored(body["post"])
        else:
            assert "sentiment" not in body["post"]


def test_scoring_is_deterministic_and_never_repeated() -> None:
    item = {"id": "1", "text": "What a wonderful launch!", "author": "a", "lang": "en"}
    first = changes.change_event(
        record("tweet"), PushChange("s1", EventType.TWEET_NEW, "1", {"tweet": dict(item)})
    ).body()["tweet"]["sentiment"]
    again = changes.change_event(
        record("tweet"), PushChange("s1", EventType.TWEET_NEW, "1", {"tweet": dict(item)})
    ).body()["tweet"]["sentiment"]
    assert first == again and first["label"] == "positive"
    kept = {"compound": -0.5, "label": "negative"}
    carried = changes.change_event(
        record("tweet"),
        PushChange("s1", EventType.TWEET_NEW, "1", {"tweet": {**item, "sentiment": kept}}),
    ).body()["tweet"]["sentiment"]
    assert carried == kept


def test_items_that_are_not_post_like_are_left_alone() -> None:
    diff = FollowerDiff(count=3, previous=2, new=[User("7", "happy")], lost=[])
    for event in changes.follower_events(record("follower"), diff):
        body = event.body()
        assert "sentiment" not in body.get("follower", {})
        assert "sentiment" not in body


@pytest.mark.parametrize(
    ("lang", "covered"),
    [
        (None, True),
        ("", True),
        ("en", True),
        ("EN-gb", True),
        ("en_US", True),
        ("und", True),
        ("zxx", True),
        ("qme", True),
        ("qht", True),
        ("ja", False),
        ("de", False),
        ("pt-BR", False),
        ("qux", False),
        (7, True),
    ],
)
def test_language_gate(lang: object, covered: bool) -> None:
    assert sentiment.covers(lang) is covered
    item = {"text": "I love it", "lang": lang}
    assert (sentiment.score_item(item, "text") is not None) is covered


def test_labels_follow_vaders_thresholds() -> None:
    assert sentiment.label_of(0.05) == "positive"
    assert sentiment.label_of(0.0499) == "neutral"
    assert sentiment.label_of(-0.0499) == "neutral"
    assert sentiment.label_of(-0.05) == "negative"
    assert sentiment.score("   ") is None
    assert sentiment.score("awful, horrible, hateful")["label"] == "negative"  # type: ignore[index]
    long = "good " * 1000
    assert sentiment.score(long) == sentiment.score(long[: sentiment.MAX_CHARS])


def test_the_catalog_scores_by_payload_key_and_refuses_two_fields_for_one_key() -> None:
    fields = stream_types().sentiment_fields
    assert fields["entry"] == "title"
    assert {fields[k] for k in ("tweet", "mention", "post")} == {"text"}
    assert "follower" not in fields
    base = next(t for t in stream_types() if t.sentiment_field == "text")
    other = StreamType(
        name="demo:other",
        platform="demo",
        summary="s",
        target=Target("t", "t", str),
        diff="posts",
        new_event=base.new_event,
        payload_key=base.payload_key,
        payload=dict,
        payload_schema={},
        sentiment_field="title",
    )
    with pytest.raises(ValueError, match="scores"):
        StreamTypes([base, other])


def recorded_texts(root: Path) -> list[str]:
    x = [
        t.text
        for name in ("raw_user_tweets.json", "raw_search.json")
        for t in parse_tweets(json.loads((root / "x" / name).read_text("utf-8"))).tweets
    ]
    statuses = [
        s.text
        for name in ("test_public_tl.yaml", "test_hashtag_tl.yaml", "test_home_tl.yaml")
        for answer in json_answers(root / "mastodon", name)
        if isinstance(answer, list)
        for s in parse_statuses(answer, HOST)
    ]
    titles = [
        e.title
        for path in sorted((root / "rss").iterdir())
        if path.suffix in (".rss", ".atom")
        for e in parse_feed(path.read_bytes(), "https://x.test/").entries
    ]
    return [*x, *statuses, *titles]


def test_the_faster_analyzer_scores_exactly_as_stock_vader(fixtures_dir: Path) -> None:
    ours, stock = sentiment._analyzer(), sentiment.stock_analyzer()
    texts = recorded_texts(fixtures_dir)
    assert len(texts) > 200
    for text in texts:
        assert ours.polarity_scores(text) == stock.polarity_scores(text), text


WORDS = (
    "no",
    "never",
    "so",
    "this",
    "without",
    "doubt",
    "kind",
    "of",
    "sort",
    "least",
    "at",
    "very",
    "but",
    "not",
    "good",
    "bad",
    "great",
    "awful",
    "the",
    "shit",
    "bomb",
    "cut",
    "me",
    "some",
    "slack",
    "yeah",
    "right",
    "hand",
    "to",
    "mouth",
    "isn't",
    "LOVE",
    "hate",
    ":)",
    "😀",
    "!",
    "?",
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=14))
def test_negations_and_idioms_score_as_stock_vader(words: list[str]) -> None:
    text = " ".join(words)
    stock = sentiment.stock_analyzer().polarity_scores(text)
    assert sentiment._analyzer().polarity_scores(text) == stock
