"""What herald asks Jetstream for: collections and DIDs from the streams, the URL (or a
first options_update when it would be too long), the connection plan, the wire setting."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from herald.config import Settings
from herald.errors import ConfigError
from herald.sources.bsky import build_source
from herald.sources.bsky.connection import MAX_URL, subscribe_url
from herald.sources.bsky.index import FOLLOW, MAX_WANTED_DIDS, POST, Index, Subscription
from herald.sources.bsky.source import check_wire
from herald.store.keys import Keys
from tests.sources.bsky.support import DID_A, DID_B, stream


def _index(*streams: tuple[str, str]) -> Index:
    built = [stream(f"s{i}", t, d) for i, (t, d) in enumerate(streams)]
    return Index.build(built, {s.id: s.target for s in built if s.type != "bsky:search"})


def test_post_streams_only_ask_for_their_dids() -> None:
    sub = _index(("bsky:post", DID_B), ("bsky:post", DID_A), ("bsky:post", DID_A)).subscription()
    assert sub == Subscription((POST,), tuple(sorted({DID_A, DID_B})))


@pytest.mark.parametrize(
    ("kinds", "collections"),
    [
        (("bsky:mention",), (POST,)),
        (("bsky:search",), (POST,)),
        (("bsky:follower",), (FOLLOW,)),
        (("bsky:post", "bsky:follower"), (POST, FOLLOW)),
    ],
)
def test_other_types_need_every_did(kinds: tuple[str, ...], collections: tuple[str, ...]) -> None:
    sub = _index(*((k, DID_A) for k in kinds)).subscription()
    assert sub == Subscription(collections, None)


def test_past_jetstreams_cap_no_dids_are_named() -> None:
    many = [("bsky:post", f"did:plc:{i:024d}") for i in range(MAX_WANTED_DIDS + 1)]
    assert _index(*many).subscription().dids is None


def test_subscribe_url() -> None:
    sub = Subscription((POST,), (DID_A,))
    url, hello = subscribe_url("wss://jetstream.example/", sub, 1779719009132431)
    parts = urlsplit(url)
    assert not hello and parts.path == "/subscribe" and parts.netloc == "jetstream.example"
    assert parse_qs(parts.query) == {
        "wantedCollections": [POST],
        "wantedDids": [DID_A],
        "cursor": ["1779719009132431"],
    }
    url, _ = subscribe_url("ws://127.0.0.1:8094/subscribe", Subscription((POST,)), None)
    assert url == "ws://127.0.0.1:8094/subscribe?wantedCollections=app.bsky.feed.post"
    url, _ = subscribe_url("https://jetstream.example", Subscription((POST,)), None)
    assert url.startswith("wss://jetstream.example/subscribe?")


def test_a_long_filter_goes_as_the_first_message() -> None:
    dids = tuple(f"did:plc:{i:024d}" for i in range(400))
    url, hello = subscribe_url("wss://j.example/subscribe", Subscription((POST,), dids), 5)
    assert hello and len(url) < MAX_URL
    assert parse_qs(urlsplit(url).query) == {"requireHello": ["true"], "cursor": ["5"]}
    message = Subscription((POST,), dids).options_update()
    assert message["type"] == "options_update"
    assert message["payload"] == {
        "wantedCollections": [POST],
        "wantedDids": list(dids),
        "maxMessageSizeBytes": 0,
    }


def test_wire_setting() -> None:
    check_wire("json")
    for wire, words in (("zstd", "zstandard"), ("v2", "v2"), ("gzip", "allowed")):
        with pytest.raises(ConfigError, match=words):
            check_wire(wire)


def test_a_refused_wire_stops_the_build() -> None:
    settings = Settings(jetstream_wire="zstd")
    with pytest.raises(ConfigError, match="HERALD_JETSTREAM_WIRE=zstd"):
        build_source(settings, None, Keys("t"))  # type: ignore[arg-type]


async def test_the_plan_lets_a_did_filtered_connection_be_quiet() -> None:
    settings = Settings()
    source = build_source(settings, None, Keys("t"))  # type: ignore[arg-type]
    posts = [stream("p", "bsky:post", DID_A)]
    await source.index_for(posts)
    assert source.plan("bsky", posts).idle_timeout >= 3600
    everything = [*posts, stream("q", "bsky:search", "x")]
    await source.index_for(everything)
    assert source.plan("bsky", everything).idle_timeout <= 300
    assert source.connection_key(posts[0]) == source.connection_key(everything[1]) == "bsky"
    await source.aclose()
