"""The pure engagement diff: thresholds, first sightings, retweets, misses and windows."""

from __future__ import annotations

from herald.engine.engagement import Seen, Thresholds, diff_engagement
from herald.sources.models import Tweet
from herald.store.engagement import Tracked

T = Thresholds(min_delta=1, min_ratio=0.0, views_min_delta=100, views_ratio=0.1)


def tweet(object_id: str, *, retweet: bool = False, **metrics: int) -> Tweet:
    return Tweet(
        id=object_id,
        text=f"text {object_id}",
        author="ann",
        url=f"https://x.com/ann/status/{object_id}",
        is_retweet=retweet,
        metrics=metrics,
    )


def seen(*tweets: Tweet) -> list[Seen]:
    return [Seen.of(t, Tweet.tweet_payload) for t in tweets]


def known(t: Tweet, misses: int = 0, **metrics: int) -> Tracked:
    payload = t.tweet_payload()
    payload.pop("metrics", None)
    return Tracked(payload, dict(metrics or t.metrics), misses)


def test_first_sighting_records_without_a_change() -> None:
    t = tweet("10", likes=3, views=50)
    diff = diff_engagement(seen(t), {}, floor=None, baseline=False, thresholds=T, confirm=2)
    assert diff.changed == [] and diff.deleted == []
    assert diff.put["10"].metrics == {"likes": 3, "views": 50}
    assert "metrics" not in diff.put["10"].tweet and diff.put["10"].tweet["text"] == "text 10"


def test_a_change_past_the_threshold_is_reported_and_becomes_the_reference() -> None:
    t = tweet("10", likes=5, views=160)
    diff = diff_engagement(
        seen(t),
        {"10": known(t, likes=2, views=100)},
        floor=None,
        baseline=False,
        thresholds=T,
        confirm=2,
    )
    [change] = diff.changed
    assert change.delta == {"likes": 3, "views": 60}
    assert change.tweet == {"id": "10", "url": "https://x.com/ann/status/10", "author": "ann"}
    assert diff.put["10"].metrics == {"likes": 5, "views": 160}


def test_under_the_threshold_nothing_is_written() -> None:
    t = tweet("10", likes=2, views=190)
    diff = diff_engagement(
        seen(t),
        {"10": known(t, likes=2, views=100)},
        floor=None,
        baseline=False,
        thresholds=T,
        confirm=2,
    )
    assert diff.changed == [] and diff.put == {}


def test_the_relative_threshold_scales_with_the_count() -> None:
    ratio = Thresholds(min_delta=1, min_ratio=0.05, views_min_delta=100, views_ratio=0.1)
    stored = {"10": known(tweet("10"), likes=1000)}

    def changes(t: Tweet, thresholds: Thresholds) -> int:
        diff = diff_engagement(
            seen(t), stored, floor=None, baseline=False, thresholds=thresholds, confirm=2
        )
        return len(diff.changed)

    assert changes(tweet("10", likes=1040), ratio) == 0  # 40 < 5% of 1000
    assert changes(tweet("10", likes=1040), T) == 1
    assert changes(tweet("10", likes=1050), ratio) == 1


def test_retweets_carry_the_originals_counts_and_report_none() -> None:
    t = tweet("10", retweet=True, likes=0, retweets=31)
    first = diff_engagement(seen(t), {}, floor=None, baseline=False, thresholds=T, confirm=2)
    assert first.put["10"].metrics == {} and first.put["10"].tweet["isRetweet"] is True
    later = tweet("10", retweet=True, likes=0, retweets=90)
    diff = diff_engagement(
        seen(later),
        {"10": first.put["10"]},
        floor=None,
        baseline=False,
        thresholds=T,
        confirm=2,
    )
    assert diff.changed == []


def test_no_thresholds_no_metrics_and_baseline_judges_nothing() -> None:
    t = tweet("10", likes=50)
    stored = {"10": known(t, likes=1), "20": known(tweet("20"))}
    off = diff_engagement(seen(t), stored, floor=5, baseline=False, thresholds=None, confirm=2)
    assert off.changed == [] and "20" in off.put  # deletions still judged
    base = diff_engagement(seen(t), stored, floor=5, baseline=True, thresholds=T, confirm=2)
    assert base.changed == [] and base.deleted == [] and base.put == {}


def test_misses_add_up_to_confirm_and_a_sighting_clears_them() -> None:
    present, gone = tweet("30"), tweet("20")
    stored = {"30": known(present), "20": known(gone)}
    once = diff_engagement(seen(present), stored, floor=10, baseline=False, thresholds=T, confirm=2)
    assert once.deleted == [] and once.put["20"].misses == 1
    twice = diff_engagement(
        seen(present),
        {**stored, "20": once.put["20"]},
        floor=10,
        baseline=False,
        thresholds=T,
        confirm=2,
    )
    assert [d.tweet["id"] for d in twice.deleted] == ["20"] and twice.drop == ["20"]
    back = diff_engagement(
        seen(present, gone),
        {**stored, "20": once.put["20"]},
        floor=10,
        baseline=False,
        thresholds=T,
        confirm=2,
    )
    assert back.deleted == [] and back.put["20"].misses == 0


def test_without_a_window_or_below_its_floor_nothing_is_missed() -> None:
    present, old = tweet("30"), tweet("20")
    stored = {"30": known(present), "20": known(old, misses=1)}
    none = diff_engagement(
        seen(present), stored, floor=None, baseline=False, thresholds=T, confirm=2
    )
    assert none.deleted == [] and none.put == {}
    at = diff_engagement(seen(present), stored, floor=20, baseline=False, thresholds=T, confirm=2)
    assert at.deleted == [], "the floor itself is not inside the window"


def test_replies_are_not_judged() -> None:
    """X folds a thread into its start and latest reply: a reply in between vanishes."""
    present = tweet("30")
    reply = Tweet(id="20", text="2/3", author="ann", is_reply=True, in_reply_to_id="10")
    stored = {"30": known(present), "20": known(reply, misses=5)}
    diff = diff_engagement(seen(present), stored, floor=10, baseline=False, thresholds=T, confirm=2)
    assert diff.deleted == [] and "20" not in diff.put
