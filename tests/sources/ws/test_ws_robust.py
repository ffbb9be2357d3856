"""No frame can make decode raise: recorded frames with a field deleted or replaced by any
JSON value come out as changes, frame errors or nothing; paths never raise on any value."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ws_support import (
    BINANCE,
    COINBASE,
    binance_options,
    coinbase_options,
    feed_stream,
    received,
)

from herald.push.base import Frame
from herald.sources.ws import WsFeedSource, compile_path

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)


def _mutate(frame: dict[str, Any], path: list[str], value: Any, delete: bool) -> dict[str, Any]:
    target = frame
    for key in path[:-1]:
        nxt = target.get(key)
        if not isinstance(nxt, dict):
            return frame
        target = nxt
    if delete:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return frame


def _paths(frame: dict[str, Any], prefix: list[str] | None = None) -> list[list[str]]:
    out: list[list[str]] = []
    for key, value in frame.items():
        here = [*(prefix or []), key]
        out.append(here)
        if isinstance(value, dict):
            out += _paths(value, here)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=JSON, delete=st.booleans())
def test_mutated_recorded_frames_never_make_decode_raise(
    data: st.DataObject, value: Any, delete: bool
) -> None:
    name = data.draw(st.sampled_from([BINANCE, COINBASE]))
    frames = [f for f in received(name) if "trade_id" in f or f.get("data", {}).get("e")]
    frame = orjson.loads(orjson.dumps(data.draw(st.sampled_from(frames))))
    path = data.draw(st.sampled_from(_paths(frame)))
    mutated = _mutate(frame, path, value, delete)
    if name == BINANCE:
        options = binance_options(["aggTrade", "trade", "bookTicker", "ticker"])
    else:
        options = coinbase_options(["matches", "ticker"])
    stream = feed_stream(options)
    source = WsFeedSource()
    key = source.connection_key(stream)
    raw = orjson.dumps(mutated)
    decoded = asyncio.run(source.decode(key, [Frame(raw, 0.0)], [stream], None))
    for change in decoded.changes:
        orjson.dumps(change.payload)  # every payload is JSON
        assert len(change.object_id) < 300


@settings(max_examples=300, deadline=None)
@given(value=JSON, steps=st.lists(st.text(min_size=1, max_size=3) | st.integers(-3, 3), max_size=5))
def test_a_path_never_raises_on_any_value(value: Any, steps: list[str | int]) -> None:
    # a quoted step is a JSON string
    text = "$" + "".join(f"[{s}]" if isinstance(s, int) else f"[{orjson.dumps(s).decode()}]"
                         for s in steps)  # fmt: skip
    path = compile_path(text, "f")
    assert list(path.steps) == steps
    path.get(value)
