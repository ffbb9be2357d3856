"""The catalog: registering a platform module, what it refuses, and what it describes."""

from __future__ import annotations

import types

import pytest

from herald.events import EventType
from herald.sources import catalog
from herald.sources.catalog import item_of, stream_types
from herald.sources.types import StreamType, Target
from tests.platforms import demo


def _module(name: str, *entries: StreamType) -> types.ModuleType:
    module = types.ModuleType(name)
    module.STREAM_TYPES = entries  # type: ignore[attr-defined]
    module.build_source = demo.build_source  # type: ignore[attr-defined]
    return module


def _entry(name: str, payload_key: str = "entry", aliases: tuple[str, ...] = ()) -> StreamType:
    return StreamType(
        name=name,
        aliases=aliases,
        platform=name.split(":")[0],
        summary="test entries",
        target=Target(description="anything", example="x", validate=str),
        diff="posts",
        new_event=EventType.ENTRY_NEW,
        payload_key=payload_key,
        payload=lambda item: {},
        payload_schema={"type": "object"},
    )


def test_register_and_unregister_a_platform() -> None:
    before = stream_types().names
    with catalog.platform("tests.platforms.demo") as module:
        assert module is demo
        assert "demo:thing" in stream_types()
        canonical = len(list(stream_types())) - 1  # names: the canonical ones, then aliases
        assert stream_types().names == (
            *before[:canonical],
            "demo:thing",
            *before[canonical:],
        )
        assert stream_types().get("demo:thing").platform == "demo"
        assert "demo" in stream_types().platforms
        assert demo in catalog.platforms()
    assert stream_types().names == before
    assert demo not in catalog.platforms()


def test_a_clashing_or_incomplete_module_is_refused_and_changes_nothing() -> None:
    before = stream_types().names
    clash = _module("clash", _entry("feed:one", aliases=("x:tweet",)))
    with pytest.raises(ValueError, match="'x:tweet' is declared twice"):
        catalog.register_platform(clash)
    assert stream_types().names == before
    with pytest.raises(ValueError, match="does not export STREAM_TYPES"):
        catalog.register_platform(types.ModuleType("bare"))
    with catalog.platform(demo), pytest.raises(ValueError, match="registered already"):
        catalog.register_platform(demo)
    with pytest.raises(ValueError, match="registered already"):
        catalog.register_platform("herald.sources.x")
    assert stream_types().names == before


def test_describe_and_payload_keys() -> None:
    described = {t["type"]: t for t in stream_types().describe()}
    follower = described["follower"]
    assert follower["platform"] == "x" and follower["aliases"] == ["x:follower"]
    assert follower["events"] == [
        "stream:follower:new",
        "stream:follower:lost",
        "stream:follower:count",
    ]
    assert follower["target"]["example"] and follower["payloadSchema"]["required"]
    assert stream_types().payload_keys[:3] == ("tweet", "follower", "mention")
    with catalog.platform(_module("feeds", _entry("feed:entry"))):
        assert "entry" in stream_types().payload_keys
        body = {"type": "stream:entry:new", "entry": {"id": "1", "title": "t"}}
        assert item_of(body) == ("entry", {"id": "1", "title": "t"})
    assert item_of({"gadget": {"id": "1"}}) is None  # not a key of this catalog
    assert item_of({"tweet": "not an object"}) is None
