"""Recorded X timeline -> herald's own events -> a pipeline: windows land on the tweets'
own times, not on when herald saw them."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

from herald.events import Event, EventType, decode
from herald.pipeline import Agg, Flow, Pipeline, Record, Tumbling
from herald.sources.x import parse_tweets


async def test_tweets_fall_into_the_hour_of_their_own_timestamp(fixtures_dir: Path) -> None:
    raw = json.loads((fixtures_dir / "x" / "raw_user_tweets.json").read_text("utf-8"))
    tweets = parse_tweets(raw).tweets
    assert len(tweets) > 5
    records = []
    for index, tweet in enumerate(tweets):
        event = Event(
            EventType.TWEET_NEW,
            "s1",
            "someone",
            tweet.id,
            {"tweet": tweet.tweet_payload()},
            detected_at="2030-01-01T00:00:00+00:00",  # long after: must not be used
        )
        records.append(Record.of(f"{index + 1}-0", decode(event.encode(), f"{index + 1}-0")))

    own = [datetime.fromisoformat(t.tweet_payload()["timestamp"]).timestamp() for t in tweets]
    assert [r.time for r in records] == own

    flow = Flow().window(Tumbling(3600)).aggregate(Agg.collect(lambda e: e["tweet"]["id"]))
    pipeline = Pipeline("hourly", flow)
    out = await pipeline.process(records, max(own) + 3600)
    expected = Counter(int(t // 3600) * 3600 for t in own)
    assert {o.data["start"]: len(o.data["value"]) for o in out} == expected
    assert sorted(i for o in out for i in o.data["value"]) == sorted(t.id for t in tweets)
    assert pipeline.late == []
