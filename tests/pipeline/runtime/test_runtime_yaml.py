"""YAML declarations: what they build, and what they refuse, with the line and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.errors import ConfigError
from herald.pipeline import Record
from herald.pipeline.runtime import load_declarations
from herald.pipeline.yamlspec import load_yaml

GOOD = """\
pipelines:
  - name: tesla
    types: [tweet:new]
    skew: 30s
    steps:
      - filter: {keywords: [tesla], excludeRetweets: true}
      - map: {text: tweet.text, who: tweet.author}
      - output: mention
"""


def tweet(offset: str, text: str, retweet: bool = False) -> Record:
    event = {
        "type": "stream:tweet:new",
        "streamId": "s1",
        "tweet": {"id": offset, "text": text, "author": "ann", "isRetweet": retweet},
    }
    return Record(offset, event, 1.0)


async def test_a_good_file_builds_a_pipeline() -> None:
    (spec,) = load_yaml(GOOD, "good.yaml")
    assert spec.name == "tesla" and spec.skew == 30.0
    assert spec.types == frozenset({"stream:tweet:new"})
    pipeline = spec.build()
    records = [tweet("1-0", "I like Tesla"), tweet("2-0", "no"), tweet("3-0", "tesla", True)]
    outs = await pipeline.process(records, None)
    assert [(o.name, dict(o.data)) for o in outs] == [
        ("mention", {"text": "I like Tesla", "who": "ann"})
    ]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (GOOD.replace("      - map:", "      - mapp:"), 7, "unknown operator 'mapp'"),
        (GOOD.replace("keywords: [tesla]", "regex: '(unclosed'"), 6, "bad filter: "),
        (GOOD.replace("keywords: [tesla]", "kewords: [tesla]"), 6, "kewords is not a known filter"),
        (GOOD.replace("tweet.text", "tweet.text + 1"), 7, "is not a field path"),
        (GOOD.replace("skew: 30s", "skew: soon"), 4, "skew must be a duration"),
        (GOOD.replace("[tweet:new]", "[tweet:nwe]"), 3, "unknown event type 'tweet:nwe'"),
        (
            GOOD.replace("    skew: 30s\n", "    skew: 30s\n    colour: red\n"),
            5,
            "unknown pipeline field",
        ),
        (
            GOOD.replace("      - output: mention\n", "      - window: {tumbling: 1m}\n"),
            8,
            "followed by aggregate",
        ),
        (
            GOOD.replace("      - output: mention\n", "      - aggregate: count\n"),
            8,
            "must follow a window",
        ),
        (
            GOOD.replace("      - map:", "      - output: x\n      - map:"),
            8,
            "output must be the last",
        ),
        (GOOD.replace("name: tesla", "name: 'bad name!'"), 2, "pipeline name"),
        (
            GOOD.replace("steps:", "steps: [").replace(
                "output: mention", "output: mention\n  oops"
            ),
            0,
            "not valid YAML",
        ),
    ],
)
def test_bad_files_are_refused_with_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml(text, "p.yaml")
    message = caught.value.detail
    assert reason in message, message
    if line:
        assert message.startswith(f"p.yaml line {line}: "), message


def test_windows_thresholds_and_aggregates_parse() -> None:
    text = """\
name: spikes
watermark: events
steps:
  - window: {sliding: 10m, every: 1m, key: streamId}
  - aggregate: {avg: tweet.metrics.likes}
  - threshold: {below: 3}
"""
    (spec,) = load_yaml(text, "s.yaml")
    assert spec.watermark == "events" and spec.build().name == "spikes"
    bad = text.replace("{avg: tweet.metrics.likes}", "{median: tweet.metrics.likes}")
    with pytest.raises(ConfigError, match=r"^s.yaml line 5: unknown aggregate 'median'"):
        load_yaml(bad, "s.yaml")


def test_herald_pipelines_setting(tmp_path: Path) -> None:
    folder = tmp_path / "pipes"
    folder.mkdir()
    (folder / "a.yaml").write_text(GOOD)
    specs = load_declarations(f"{folder}, tests.pipeline.runtime.builders:exactly_once")
    assert [s.name for s in specs] == ["tesla", "chaos"]
    with pytest.raises(ConfigError, match="declared twice"):
        load_declarations(f"{folder},{folder / 'a.yaml'}")
    with pytest.raises(ConfigError, match="cannot import"):
        load_declarations("no_such_module_x:build")
    with pytest.raises(ConfigError, match="neither a YAML file"):
        load_declarations("not a thing")
