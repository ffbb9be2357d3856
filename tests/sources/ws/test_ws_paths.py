"""The map language: paths, conditions and rules; a bad one is refused with its field."""

from __future__ import annotations

from typing import Any

import pytest

from herald.errors import ValidationError
from herald.sources.ws import compile_path
from herald.sources.ws.paths import MAX_CHARS, MAX_STEPS, MISSING
from herald.sources.ws.rules import compile_map, compile_match

FRAME: dict[str, Any] = {
    "stream": "btcusdt@aggTrade",
    "data": {"e": "aggTrade", "s": "BTCUSDT", "a": 5, "m": True, "b": [["1.0", "2"], ["3", "4"]]},
    "odd.key": {"x[0]": 1},
    "n": None,
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$", FRAME),
        ("$.stream", "btcusdt@aggTrade"),
        ("stream", "btcusdt@aggTrade"),
        ("data.s", "BTCUSDT"),
        ("$.data.b[0][1]", "2"),
        ("$.data.b[-1][0]", "3"),
        ("$['odd.key'][\"x[0]\"]", 1),
        ("$.n", None),
        ("$.data.b[2]", MISSING),
        ("$.data.s.x", MISSING),
        ("$.data[0]", MISSING),
        ("$.missing.deeper", MISSING),
    ],
)
def test_paths_read_what_they_name(path: str, value: Any) -> None:
    assert compile_path(path, "f").get(FRAME) == value


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("", "must be a path"),
        ("$.", "at character 3"),
        ("$..a", "at character 3"),
        ("$.a[x]", "at character 4"),
        ("$.a b", "at character 4"),
        ("$[*]", "at character 2"),
        ("$.a[?(@.b)]", "at character 4"),
        ("x" * (MAX_CHARS + 1), f"at most {MAX_CHARS}"),
        ("$" + ".a" * (MAX_STEPS + 1), f"at most {MAX_STEPS} steps"),
    ],
)
def test_a_bad_path_is_refused_naming_the_field_and_where(path: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule) as refused:
        compile_path(path, "options.map.id")
    assert refused.value.detail.startswith("options.map.id: ")


@pytest.mark.parametrize(
    ("match", "holds"),
    [
        ({"$.data.e": "aggTrade"}, True),
        ({"$.data.e": "trade"}, False),
        ({"$.data.a": 5}, True),
        ({"$.data.a": 5.0}, True),
        ({"$.data.m": True}, True),
        ({"$.data.m": 1}, False),
        ({"$.data.a": True}, False),
        ({"$.n": None}, True),
        ({"$.missing": None}, False),
        ({"$.data.e": ["trade", "aggTrade"]}, True),
        ({"$.data.e": {"in": ["trade"]}}, False),
        ({"$.stream": {"suffix": "@aggTrade"}}, True),
        ({"$.stream": {"prefix": "eth"}}, False),
        ({"$.data.a": {"prefix": "5"}}, False),
        ({"$.data.e": {"exists": True}, "$.data.x": {"exists": False}}, True),
        ({"$.data.e": "aggTrade", "$.data.s": "ETHUSDT"}, False),
    ],
)
def test_conditions(match: dict[str, Any], holds: bool) -> None:
    conditions = compile_match(match, "options.map.match")
    assert all(c.holds(FRAME) for c in conditions) is holds


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ({"match": []}, "must be an object"),
        ({"match": {"$.a": {"regex": "x"}}}, "options.map.match.\\$.a: must be"),
        ({"match": {"$.a": {"exists": "yes"}}}, "must be"),
        ({"match": {"$.a": []}}, "1 to 64"),
        ({"match": {"$.a": [{"x": 1}]}}, "1 to 64"),
        ({"match": {f"$.k{i}": 1 for i in range(17)}}, "at most 16"),
        ({"match": {"$..a": 1}}, "options.map.match.\\$..a key"),
        ({"id": "$..a"}, "options.map.id"),
        ({"time": 5}, "options.map.time"),
        ({"script": "x"}, "unknown key"),
    ],
)
def test_a_bad_map_is_refused_naming_the_field(spec: dict[str, Any], rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        compile_map(spec)


def test_an_empty_map_keeps_every_frame() -> None:
    assert compile_map({}).matches(FRAME)
