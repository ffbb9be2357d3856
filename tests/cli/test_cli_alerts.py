"""``herald alerts ...`` and ``herald silences ...`` against a real server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import Result

from herald.events import Event, EventType
from tests.cli.conftest import CliServer, Invoke

SENTIMENT = (
    "--type", "sentiment", "--condition", "below", "--threshold", "-0.3",
    "--window", "300", "--for", "60", "--min-samples", "5", "--channel", "critical",
    "--keyword", "tesla", "--platform", "x",
)  # fmt: skip


async def logged_tweets(server: CliServer, *texts: str) -> None:
    """Tweets in the server's real log, as a poll appends them (timestamped now)."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    events = [
        Event(
            EventType.TWEET_NEW,
            "s1",
            "acme",
            str(n),
            {"tweet": {"id": str(n), "text": text, "author": "acme", "timestamp": now}},
            platform="x",
        )
        for n, text in enumerate(texts, 1)
    ]
    assert len(await server.herald.log.append("s1", events)) == len(texts)


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def failed(result: Result, field: str) -> str:
    assert result.exit_code != 0, result.stdout
    line = result.stderr.strip()
    assert line.startswith(f"error: {field}:"), line
    assert "Traceback" not in result.stdout + result.stderr
    return line


async def test_create_list_show_update_enable_disable_delete(cli: Invoke) -> None:
    rule = ok_json(await cli("alerts", "create", *SENTIMENT, "--id", "mood", "--json"))
    assert rule["id"] == "mood" and rule["threshold"] == -0.3 and rule["minSamples"] == 5
    assert rule["scope"]["keywords"] == ["tesla"] and rule["scope"]["platforms"] == ["x"]

    line = await cli("alerts", "create", "--type", "volume", "--condition", "above",
                     "--threshold", "100", "--window", "60")  # fmt: skip
    assert (
        line.exit_code == 0 and "created rule" in line.stdout and "volume above 100" in line.stdout
    )

    listed = ok_json(await cli("alerts", "list", "--json"))
    assert listed["count"] == 2 and listed["alerts"][0]["id"] == "mood"
    table = await cli("alerts", "list")
    assert table.exit_code == 0
    for cell in ("mood", "sentiment", "below -0.3", "5m", "critical", "normal"):
        assert cell in table.stdout, cell
    sheet = await cli("alerts", "show", "mood")
    assert sheet.exit_code == 0 and "minSamples" in sheet.stdout and "status state" in sheet.stdout

    updated = ok_json(await cli("alerts", "update", "mood", "--threshold", "-0.5", "--json"))
    assert updated["threshold"] == -0.5 and updated["minSamples"] == 5
    off = await cli("alerts", "disable", "mood")
    assert off.exit_code == 0 and "disabled rule mood" in off.stdout
    assert ok_json(await cli("alerts", "show", "mood", "--json"))["enabled"] is False
    assert ok_json(await cli("alerts", "enable", "mood", "--json"))["enabled"] is True

    gone = await cli("alerts", "delete", "mood")
    assert gone.exit_code == 0 and "deleted rule mood" in gone.stdout
    assert ok_json(await cli("alerts", "list", "--json"))["count"] == 1


async def test_refusals_are_one_line_naming_the_field(cli: Invoke, tmp_path: Path) -> None:
    failed(await cli("alerts", "create", *SENTIMENT[:4], "--threshold", "low"), "threshold")
    failed(await cli("alerts", "create", "--type", "mood", "--condition", "above",
                     "--threshold", "1"), "type")  # fmt: skip
    assert ok_json(await cli("alerts", "list", "--json"))["count"] == 0

    missing = await cli("alerts", "show", "nope")
    assert missing.exit_code == 1 and "nope" in missing.stderr
    assert (await cli("alerts", "delete", "nope")).exit_code == 1
    ok_json(await cli("alerts", "create", *SENTIMENT, "--id", "a", "--json"))
    empty = await cli("alerts", "update", "a")
    assert empty.exit_code == 2 and "nothing to update" in empty.stderr
    taken = await cli("alerts", "create", *SENTIMENT, "--id", "a")
    assert taken.exit_code == 1 and "exists" in taken.stderr

    bad = tmp_path / "rule.json"
    bad.write_text("{not json")
    assert "not valid JSON" in (await cli("alerts", "create", "--file", str(bad))).stderr
    bad_match = await cli("silences", "create", "--match", "noequals", "--ends", "2h")
    assert bad_match.exit_code == 2 and "--match" in bad_match.stderr


async def test_create_from_a_file_with_options_on_top(cli: Invoke, tmp_path: Path) -> None:
    spec = tmp_path / "rule.json"
    spec.write_text(json.dumps({"id": "kw", "type": "keyword", "condition": "contains",
                                "threshold": "recall", "window": 60}))  # fmt: skip
    rule = ok_json(await cli("alerts", "create", "--file", str(spec), "--channel", "ops", "--json"))
    assert rule["id"] == "kw" and rule["threshold"] == "recall" and rule["channel"] == "ops"
    # a keyword rule's threshold stays text even when it looks like a number
    assert (
        ok_json(await cli("alerts", "update", "kw", "--threshold", "42", "--json"))["threshold"]
        == "42"
    )


async def test_a_dry_run_prints_the_transitions(cli: Invoke, server: CliServer) -> None:
    await logged_tweets(server, "a product recall", "nothing here", "another recall")
    # The replay ends before the rule exists: once created, the live evaluator appends its
    # own alert:firing entries, which a range ending "now" would count too.
    until = (datetime.now(UTC) + timedelta(milliseconds=1)).isoformat()
    kw = ("--type", "keyword", "--condition", "contains", "--threshold", "recall")
    ok_json(await cli("alerts", "create", *kw, "--window", "1", "--id", "kw", "--json"))
    table = await cli("alerts", "test", "kw", "--replay", "1h", until)
    assert table.exit_code == 0, table.stderr
    for header in ("state", "previous", "at", "value", "threshold", "samples"):
        assert header in table.stdout
    assert "firing" in table.stdout and "normal" in table.stdout and "recall" in table.stdout
    assert "evaluated 3 log entries" in table.stdout
    assert "would have fired 2 time(s)" in table.stdout  # one per matching item

    result = ok_json(await cli("alerts", "test", "kw", "--replay", "1h", until, "--json"))
    firing = [t for t in result["transitions"] if t["state"] == "firing"]
    assert result["ruleId"] == "kw" and sorted(t["samples"][0] for t in firing) == ["1", "3"]

    inline = json.dumps({"type": "volume", "condition": "above", "threshold": 2, "window": 60})
    later = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()  # past the window's end
    answer = ok_json(await cli("alerts", "test", inline, "--replay", "1h", later, "--json"))
    # 3 items in their minute, then an empty minute (a Normal may follow, by the clock)
    assert [t["state"] for t in answer["transitions"]][:2] == ["firing", "resolved"]
    assert answer["transitions"][0]["value"] == 3
    assert ok_json(await cli("alerts", "list", "--json"))["count"] == 1  # nothing stored

    refused = await cli("alerts", "test", '{"type": "volume"}', "--replay", "1h", "0s")
    assert refused.exit_code == 1 and refused.stderr.startswith("error: condition:")
    unknown = await cli("alerts", "test", "nope", "--replay", "1h", "0s")
    assert unknown.exit_code == 1 and "nope" in unknown.stderr
    backwards = await cli("alerts", "test", "kw", "--replay", "0s", "1h")
    assert backwards.exit_code == 1 and backwards.stderr.startswith("error: to:")


async def test_silences_create_list_delete(cli: Invoke) -> None:
    made = ok_json(await cli("silences", "create", "--match", "ruleId=mood", "--match",
                             "channel=~crit.*", "--ends", "2h", "--comment", "deploy",
                             "--json"))  # fmt: skip
    assert made["matchers"] == [
        {"name": "ruleId", "value": "mood", "isRegex": False},
        {"name": "channel", "value": "crit.*", "isRegex": True},
    ]
    assert made["comment"] == "deploy" and made["endsAt"].endswith("Z")
    table = await cli("silences", "list")
    assert (
        table.exit_code == 0 and "ruleId=mood" in table.stdout and "channel=~crit.*" in table.stdout
    )
    gone = await cli("silences", "delete", made["id"])
    assert gone.exit_code == 0 and f"deleted silence {made['id']}" in gone.stdout
    assert "no silences" in (await cli("silences", "list")).stdout
    assert (await cli("silences", "delete", made["id"])).exit_code == 1
