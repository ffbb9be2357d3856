"""``herald streams ...`` against a real server: every command, JSON parsed, tables read."""

from __future__ import annotations

import json
from typing import Any

from click.testing import Result

from tests.cli.conftest import CliServer, Invoke


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


async def start(cli: Invoke, username: str, *extra: str) -> dict[str, Any]:
    started = ok_json(
        await cli("streams", "start", "--type", "tweet", "--username", username, *extra, "--json")
    )
    assert isinstance(started, dict)
    return started


async def test_start_list_status_as_json_and_tables(cli: Invoke) -> None:
    stream = await start(cli, "nasa", "--interval", "30")
    assert stream["type"] == "tweet" and stream["username"] == "nasa"
    assert stream["status"] == "active" and stream["interval"] == 30000

    listed = ok_json(await cli("streams", "list", "--json"))
    assert listed["count"] == 1 and listed["streams"][0]["id"] == stream["id"]

    table = await cli("streams", "list")
    assert table.exit_code == 0
    for cell in (stream["id"], "tweet", "@nasa", "active", "30s"):
        assert cell in table.stdout
    for header in ("id", "type", "target", "status", "interval", "last poll", "next poll"):
        assert header in table.stdout

    status = ok_json(await cli("streams", "status", stream["id"], "--json"))
    assert status["id"] == stream["id"] and "scheduledFor" in status
    sheet = await cli("streams", "status", stream["id"])
    assert sheet.exit_code == 0 and "@nasa" in sheet.stdout and "active" in sheet.stdout


async def test_poll_then_history_shows_the_new_tweet(cli: Invoke, server: CliServer) -> None:
    stream = await start(cli, "nasa")
    sid = stream["id"]
    await cli("streams", "poll", sid)  # baseline (the worker may have taken it: either is fine)
    server.source.post("nasa", "liftoff of the new rocket")
    for _ in range(20):
        polled = await cli("streams", "poll", sid, "--json")
        if polled.exit_code == 0 and json.loads(polled.stdout)["events"]:
            break
    history = ok_json(await cli("streams", "history", sid, "--limit", "5", "--json"))
    assert history["streamId"] == sid
    tweets = [e for e in history["events"] if e["type"] == "stream:tweet:new"]
    assert [t["tweet"]["text"] for t in tweets] == ["liftoff of the new rocket"]

    table = await cli("streams", "history", sid)
    assert table.exit_code == 0 and "liftoff of the new rocket" in table.stdout
    assert "tweet:new" in table.stdout

    line = await cli("streams", "poll", sid)
    assert line.exit_code in (0, 1)  # 1 only if the worker's poll holds the lock (busy)
    assert f"polled {sid}" in line.stdout or "busy" in line.stderr


async def test_pause_resume_update_stop(cli: Invoke) -> None:
    sid = (await start(cli, "esa"))["id"]
    assert ok_json(await cli("streams", "pause", sid, "--json"))["status"] == "paused"
    paused = await cli("streams", "pause", sid)
    assert paused.exit_code == 0 and f"paused {sid}" in paused.stdout
    assert ok_json(await cli("streams", "resume", sid, "--json"))["status"] == "active"

    updated = ok_json(await cli("streams", "update", sid, "--interval", "120", "--json"))
    assert updated["interval"] == 120000
    line = await cli("streams", "update", sid, "--interval", "90")
    assert line.exit_code == 0 and "every 90s" in line.stdout

    assert ok_json(await cli("streams", "stop", sid, "--json")) == {
        "success": True,
        "streamId": sid,
    }
    assert ok_json(await cli("streams", "list", "--json"))["count"] == 0
    empty = await cli("streams", "list")
    assert empty.exit_code == 0 and "no streams" in empty.stdout


async def test_stop_all_stops_every_stream_with_progress(cli: Invoke) -> None:
    ids = {(await start(cli, f"user{i}"))["id"] for i in range(12)}
    result = ok_json(await cli("streams", "stop", "--all", "--json"))
    assert result == {"stopped": 12, "failed": 0, "total": 12, "errors": []}
    assert ok_json(await cli("streams", "list", "--json"))["count"] == 0

    for i in range(3):
        ids.add((await start(cli, f"again{i}"))["id"])
    human = await cli("streams", "stop", "--all", "--yes")
    assert human.exit_code == 0 and "stopped 3 of 3 stream(s)" in human.stdout


async def test_failures_exit_non_zero_with_the_servers_detail(cli: Invoke) -> None:
    missing = await cli("streams", "status", "nosuchstream")
    assert missing.exit_code == 1 and missing.stdout == ""
    assert missing.stderr.strip() == "error: no stream with id 'nosuchstream'"

    bad = await cli("streams", "start", "--type", "tweet", "--username", "not a name!")
    assert bad.exit_code == 1
    assert bad.stderr.count("\n") == 1 and "username:" in bad.stderr
    assert "not a valid X username" in bad.stderr

    slow = await cli("streams", "start", "--type", "tweet", "--username", "nasa", "--interval", "0")
    assert slow.exit_code == 1 and "interval: must be between" in slow.stderr

    kind = await cli("streams", "start", "--type", "podcast", "--username", "nasa", "--json")
    assert kind.exit_code == 1 and kind.stdout == "" and "type: must be one of" in kind.stderr

    nothing = await cli("streams", "update", "abc")
    assert nothing.exit_code == 2 and "nothing to update" in nothing.stderr

    both = await cli("streams", "stop", "abc", "--all")
    assert both.exit_code == 2 and "not both" in both.stderr

    for verb in ("pause", "resume", "poll", "stop", "history"):
        result = await cli("streams", verb, "ghost")
        assert result.exit_code == 1, verb
        assert "no stream with id 'ghost'" in result.stderr, verb


async def test_duplicate_start_names_the_existing_stream(cli: Invoke) -> None:
    sid = (await start(cli, "nasa"))["id"]
    again = await cli("streams", "start", "--type", "tweet", "--username", "nasa")
    assert again.exit_code == 1 and sid in again.stderr
