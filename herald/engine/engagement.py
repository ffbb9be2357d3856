"""The pure diff of engagement and deletions: which recent tweets changed their counts past
a threshold (``stream:tweet:metrics``) and which left a complete window (``:deleted``).

No I/O: the poller loads the :class:`Tracked` records, calls :func:`diff_engagement` with
the fetched items' payloads, appends the events and saves :attr:`EngagementDiff.put` and
:attr:`EngagementDiff.drop`.

- **First sighting.** A tweet not tracked yet (the baseline, a new tweet) is recorded with
  its metrics and reports nothing.
- **Metrics.** Compared with the metrics last *reported*, so slow drift adds up. A count
  (likes, retweets, replies, quotes, bookmarks) reports when it moved by at least
  ``max(min_delta, min_ratio * previous)``; views, which grow on every look, by at least
  ``max(views_min_delta, views_ratio * previous)``. A retweet's counts are the original's
  (X shows 0 likes on the retweet itself): retweets report no metrics.
- **Deletions.** Only with a :class:`~herald.sources.base.Window`: a tracked tweet whose id
  lies above the window's floor and that the poll did not return was missed once; after
  ``confirm`` such polls in a row it is reported deleted and forgotten. A poll that returns
  it again clears the count. A poll without a window (a gap, a baseline) judges nothing.
  Replies are not judged: X folds a thread into one entry that shows its start and its
  latest reply, so a reply in between leaves the timeline without being deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from herald.store.engagement import Tracked, newer

VIEWS = "views"


@dataclass(frozen=True, slots=True)
class Thresholds:
    min_delta: int = 1
    min_ratio: float = 0.0
    views_min_delta: int = 100
    views_ratio: float = 0.1

    def passed(self, name: str, previous: int, current: int) -> bool:
        delta = abs(current - previous)
        if delta == 0:
            return False
        if name == VIEWS:
            return delta >= max(self.views_min_delta, self.views_ratio * previous)
        return delta >= max(self.min_delta, self.min_ratio * previous)


@dataclass(frozen=True, slots=True)
class Seen:
    """One fetched item as the diff needs it. ``describe`` makes its wire payload, asked
    only at a first sighting (payloads may cost: sentiment, entities)."""

    id: str
    metrics: Mapping[str, int]
    retweet: bool
    url: str
    author: str
    describe: Callable[[], Mapping[str, Any]]

    @classmethod
    def of(cls, item: Any, payload: Callable[[Any], Mapping[str, Any]]) -> Seen:
        """A tweet-like item (``metrics``, ``is_retweet``, ``url``, ``author``); an item
        without them has no counts and is judged by its id alone."""
        return cls(
            id=item.id,
            metrics=_counts(getattr(item, "metrics", None)),
            retweet=bool(getattr(item, "is_retweet", False)),
            url=str(getattr(item, "url", "")),
            author=str(getattr(item, "author", "")),
            describe=lambda: payload(item),
        )


@dataclass(frozen=True, slots=True)
class MetricsChange:
    tweet_id: str
    tweet: dict[str, Any]
    """``{id, url, author}``."""
    metrics: dict[str, int]
    previous: dict[str, int]
    delta: dict[str, int]

    @property
    def digest(self) -> str:
        """Short hash of the current values: part of the event's object id."""
        encoded = orjson.dumps(self.metrics, option=orjson.OPT_SORT_KEYS)
        return hashlib.blake2b(encoded, digest_size=4).hexdigest()


@dataclass(slots=True)
class EngagementDiff:
    changed: list[MetricsChange] = field(default_factory=list)
    deleted: list[Tracked] = field(default_factory=list)
    """What herald knew of each tweet reported deleted, oldest first."""
    put: dict[str, Tracked] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)


def _known(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "metrics"}


def _counts(raw: object) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}


def _change(
    seen: Seen, previous: dict[str, int], current: dict[str, int], thresholds: Thresholds
) -> MetricsChange | None:
    shared = [name for name in current if name in previous]
    if not any(thresholds.passed(n, previous[n], current[n]) for n in shared):
        return None
    return MetricsChange(
        tweet_id=seen.id,
        tweet={"id": seen.id, "url": seen.url, "author": seen.author},
        metrics=dict(current),
        previous=dict(previous),
        delta={n: current[n] - previous[n] for n in shared},
    )


def diff_engagement(
    fetched: Sequence[Seen],
    tracked: Mapping[str, Tracked],
    *,
    floor: int | None,
    baseline: bool,
    thresholds: Thresholds | None,
    confirm: int,
) -> EngagementDiff:
    """``tracked`` holds the records of the fetched ids and of every id above ``floor``.
    ``thresholds`` None: no metrics events; ``floor`` None: no deletion judged."""
    out = EngagementDiff()
    returned: set[str] = set()
    for seen in fetched:
        if seen.id in returned:
            continue
        returned.add(seen.id)
        current = {} if seen.retweet else dict(seen.metrics)
        known = tracked.get(seen.id)
        if known is None:
            out.put[seen.id] = Tracked(_known(seen.describe()), current)
            continue
        reported = known.metrics
        if thresholds is not None and not baseline:
            change = _change(seen, known.metrics, current, thresholds)
            if change is not None:
                out.changed.append(change)
                reported = current
        if not reported and current:  # X showed no counts before (views come late)
            reported = current
        if reported is not known.metrics or known.misses:
            out.put[seen.id] = Tracked(known.tweet, reported, 0)
    if floor is None or baseline:
        return out
    for object_id in sorted(tracked, key=lambda i: (len(i), i)):
        known = tracked[object_id]
        if object_id in returned or not newer(object_id, floor) or known.tweet.get("isReply"):
            continue
        misses = known.misses + 1
        if misses >= confirm:
            out.deleted.append(known)
            out.drop.append(object_id)
        else:
            out.put[object_id] = Tracked(known.tweet, known.metrics, misses)
    return out
