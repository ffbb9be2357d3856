"""fakex's templates against the recordings: the same keys, nesting and value types at every
path the parsers read, and answers that parse to equivalent typed objects."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakex_key_paths import Reads, key_paths, tracked

from herald.sources.x import parse_tweets, parse_user, parse_users
from herald.testing.fakex.recordings import FILES
from tests.testing.fakex_support import Gql

# Paths of features fakex does not synthesise (retweets, quotes, replies, conversation
# modules): the parser reads them in the recordings, but a plain tweet has none of them.
OPTIONAL = (
    "retweeted_status_result",
    "quoted_status_result",
    "quoted_status_id_str",
    "in_reply_to_status_id_str",
    "content.items",
)
PARSERS = {
    "UserByScreenName": parse_user,
    "UserTweets": parse_tweets,
    "Followers": parse_users,
    "SearchTimeline": parse_tweets,
}


def reads_of(operation: str, doc: dict[str, Any]) -> Reads:
    wrapped, reads = tracked(doc)
    PARSERS[operation](wrapped)
    return reads


@pytest.fixture
def recordings(fixtures_dir: Path) -> dict[str, dict[str, Any]]:
    folder = fixtures_dir / "x"
    return {op: json.loads((folder / name).read_text("utf-8")) for op, name in FILES.items()}


@pytest.fixture
async def served(client: httpx.AsyncClient, gql: Gql) -> dict[str, dict[str, Any]]:
    """One fakex answer per operation, holding a pinned tweet, a long tweet and mentions."""
    await client.post("/_fakex/users/bob/tweets", json={"text": "@alice " + "a long one " * 40})
    alice = (await gql("UserByScreenName", screen_name="alice")).json()
    alice_id = alice["data"]["user"]["result"]["rest_id"]
    return {
        "UserByScreenName": alice,
        "UserTweets": (await gql("UserTweets", userId=alice_id, count=20)).json(),
        "Followers": (await gql("Followers", userId=alice_id, count=20)).json(),
        "SearchTimeline": (await gql("SearchTimeline", rawQuery="@alice -from:alice")).json(),
    }


def test_tracking_sees_what_the_parser_reads(recordings: dict[str, dict[str, Any]]) -> None:
    reads = reads_of("UserByScreenName", recordings["UserByScreenName"])
    assert reads["data.user.result.core.screen_name"] == {"str"}
    assert reads["data.user.result.relationship_counts.followers"] == {"int"}
    assert "data.user.result.banner.image_url" not in reads


@pytest.mark.parametrize("operation", list(FILES))
def test_parser_reads_of_recordings_exist_in_fakex(
    operation: str, recordings: dict[str, dict[str, Any]], served: dict[str, dict[str, Any]]
) -> None:
    wanted = reads_of(operation, recordings[operation])
    present = key_paths(served[operation])
    missing = sorted(p for p in wanted if p not in present and not any(o in p for o in OPTIONAL))
    assert missing == []
    for path in wanted.keys() & present.keys():
        assert present[path] <= wanted[path], path


@pytest.mark.parametrize("operation", list(FILES))
def test_parser_reads_of_fakex_exist_in_recordings(
    operation: str, recordings: dict[str, dict[str, Any]], served: dict[str, dict[str, Any]]
) -> None:
    """fakex invents no path: what the parser reads there, some recording has too."""
    everywhere: Reads = {}
    for doc in recordings.values():
        for path, types in key_paths(doc).items():
            everywhere.setdefault(path, set()).update(types)
    reads = reads_of(operation, served[operation])
    assert sorted(p for p in reads if p not in everywhere) == []
    for path, types in reads.items():
        assert types <= everywhere[path], path


@pytest.mark.parametrize("operation", list(FILES))
def test_envelope_matches_the_recording(
    operation: str, recordings: dict[str, dict[str, Any]], served: dict[str, dict[str, Any]]
) -> None:
    """Outside the entries every key path is the recording's; for timelines exactly so."""

    def outside_entries(doc: dict[str, Any]) -> set[str]:
        return {p for p in key_paths(doc) if not p.startswith("<entry>")}

    fake, recorded = outside_entries(served[operation]), outside_entries(recordings[operation])
    assert fake <= recorded
    if operation != "UserByScreenName":
        assert fake == recorded


def populated(obj: Any) -> set[str]:
    """The fields with a value: not None, False or empty."""
    values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return {k for k, v in values.items() if v is not None and v is not False and v not in ("", {})}


def test_users_parse_to_equivalent_objects(
    recordings: dict[str, dict[str, Any]], served: dict[str, dict[str, Any]]
) -> None:
    recorded = parse_user(recordings["UserByScreenName"])
    fake = parse_user(served["UserByScreenName"])
    assert populated(fake) == populated(recorded) - {"blue_verified"}
    followers = parse_users(served["Followers"]).users
    recorded_followers = parse_users(recordings["Followers"]).users
    assert followers and all(
        populated(f) >= populated(recorded_followers[0]) - {"blue_verified", "description"}
        for f in followers
    )


@pytest.mark.parametrize("operation", ["UserTweets", "SearchTimeline"])
def test_tweets_parse_to_equivalent_objects(
    operation: str, recordings: dict[str, dict[str, Any]], served: dict[str, dict[str, Any]]
) -> None:
    plain = [
        t
        for t in parse_tweets(recordings[operation]).tweets
        if not (t.is_retweet or t.is_reply or t.quoted_id or t.pinned)
    ]
    fake_page = parse_tweets(served[operation])
    assert plain and fake_page.tweets
    expected = set.intersection(*(populated(t) for t in plain))
    for tweet in fake_page.tweets:
        assert populated(tweet) - {"pinned"} == expected
        assert tweet.metrics.keys() == plain[0].metrics.keys()
    assert fake_page.cursor_top and fake_page.cursor_bottom
