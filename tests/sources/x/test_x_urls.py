"""URLCache: one parse per distinct GraphQL query, the same URL httpx would build."""

from __future__ import annotations

import httpx

from herald.sources.x.urls import URLCache

PARAMS = {"variables": '{"userId":"12","count":20}', "features": '{"a b":true,"c/d":false}'}


def test_url_matches_what_httpx_builds_from_params() -> None:
    cache = URLCache("http://127.0.0.1:9/")
    url = cache.get("/i/api/graphql/q1/UserTweets", PARAMS)
    expected = httpx.URL("http://127.0.0.1:9/i/api/graphql/q1/UserTweets", params=PARAMS)
    assert url.path == expected.path
    assert dict(url.params) == dict(expected.params) == PARAMS
    assert " " not in str(url)


def test_same_query_reuses_the_parsed_url_and_a_new_one_does_not() -> None:
    cache = URLCache("http://x.test")
    first = cache.get("/op", PARAMS)
    assert cache.get("/op", dict(PARAMS)) is first
    other = cache.get("/op", {**PARAMS, "variables": '{"userId":"13"}'})
    assert other is not first and other.params["variables"] == '{"userId":"13"}'


def test_least_recently_used_is_dropped_first() -> None:
    cache = URLCache("http://x.test", size=2)
    a = cache.get("/a", {})
    b = cache.get("/b", {})
    assert cache.get("/a", {}) is a  # /a is now the most recent
    cache.get("/c", {})  # evicts /b
    assert len(cache) == 2
    assert cache.get("/a", {}) is a
    assert cache.get("/b", {}) is not b
