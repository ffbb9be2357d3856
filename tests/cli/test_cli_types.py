"""``herald streams start TYPE TARGET`` and ``herald streams types``: the catalog in the CLI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from herald.service import Herald
from herald.sources import catalog
from herald.sources.catalog import stream_types
from tests.cli.conftest import Invoke, invoker
from tests.platforms import demo
from tests.servers import herald_settings, serve_herald


async def test_start_takes_type_and_target_as_arguments(cli: Invoke) -> None:
    started = await cli("streams", "start", "tweet", "@nasa", "--interval", "30", "--json")
    assert started.exit_code == 0, started.stderr
    stream = json.loads(started.stdout)
    assert (stream["type"], stream["target"], stream["platform"]) == ("tweet", "nasa", "x")
    alias = await cli("streams", "start", "x:mention", "nasa")
    assert alias.exit_code == 0, alias.stderr
    assert "started" in alias.stdout and "(mention @nasa)" in alias.stdout
    listed = await cli("streams", "list")
    assert "target" in listed.stdout and "@nasa" in listed.stdout


async def test_start_argument_errors(cli: Invoke) -> None:
    # A URL target parses; the server names what it does not know.
    feed = await cli("streams", "start", "nosuch:feed", "https://example.org/feed.xml?a=1")
    assert feed.exit_code == 1 and feed.stdout == ""
    assert "type: must be one of" in feed.stderr and "nosuch:feed" in feed.stderr
    missing = await cli("streams", "start", "tweet")
    assert missing.exit_code == 2 and "give a TYPE and a TARGET" in missing.stderr
    twice = await cli("streams", "start", "tweet", "nasa", "--type", "mention")
    assert twice.exit_code == 2 and "given twice" in twice.stderr
    target = await cli("streams", "start", "tweet", "not a name!")
    assert target.exit_code == 1 and "target:" in target.stderr
    option = await cli("streams", "start", "tweet", "nasa", "--option", "nope")
    assert option.exit_code == 2 and "NAME=VALUE" in option.stderr
    unknown = await cli("streams", "start", "tweet", "nasa", "-o", "colour=1")
    assert unknown.exit_code == 1 and "options: unknown option(s) colour" in unknown.stderr
    limit = await cli("streams", "start", "follower", "nasa", "-o", "followerSnapshotLimit=5")
    assert limit.exit_code == 0, limit.stderr


async def test_help_lists_types_and_targets_from_the_catalog(cli: Invoke) -> None:
    helped = await cli("streams", "start", "--help")
    assert helped.exit_code == 0
    text = " ".join(helped.stdout.replace("│", " ").split())
    for spec in stream_types():
        assert spec.name in text
    assert "an X handle" in text and "TYPE" in text and "TARGET" in text


async def test_types_lists_the_servers_catalog(cli: Invoke) -> None:
    table = await cli("streams", "types")
    assert table.exit_code == 0, table.stderr
    # the test server's sources (tests/cli/conftest.py): X's types and RSS
    served = [t.name for t in stream_types() if t.platform in ("x", "rss")]
    for spec in stream_types():
        if spec.name in served:
            assert spec.name in table.stdout and spec.platform in table.stdout
    assert "followerSnapshotLimit" in table.stdout and "stream:follower:count" in table.stdout
    answer = json.loads((await cli("streams", "types", "--json")).stdout)
    assert [t["type"] for t in answer["types"]] == served
    local = json.loads((await cli("streams", "types", "--local", "--json")).stdout)
    assert [t["type"] for t in local["types"]] == [t.name for t in stream_types()]
    assert [t for t in local["types"] if t["type"] in served] == answer["types"]


@pytest.fixture
async def demo_url(
    external_redis: aioredis.Redis, key_prefix: str, tmp_path: Path
) -> AsyncIterator[str]:
    demo.WORLD.boxes.clear()
    settings = herald_settings(key_prefix, secret_key="cli-demo-secret", data_dir=str(tmp_path))
    with catalog.platform(demo):
        async with Herald(settings, worker=False) as herald, serve_herald(herald) as url:
            yield url


async def test_a_registered_platform_in_the_cli(demo_url: str) -> None:
    cli = invoker(demo_url)
    types = await cli("streams", "types")
    assert "demo:thing" in types.stdout and "a box name" in types.stdout
    started = await cli("streams", "start", "demo:thing", "attic", "--json")
    assert started.exit_code == 0, started.stderr
    stream = json.loads(started.stdout)
    assert (stream["platform"], stream["target"]) == ("demo", "attic")
    await cli("streams", "poll", stream["id"])  # baseline
    demo.WORLD.add("attic", "a lamp", author="ida")
    await cli("streams", "poll", stream["id"])
    history = await cli("streams", "history", stream["id"])
    assert "post:new" in history.stdout and "@ida: a lamp" in history.stdout
