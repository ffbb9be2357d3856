"""The churn and feed-window rules on their own (pure: no I/O)."""

from __future__ import annotations

from herald.sources.rss.memory import LIMIT, Memory, digest, review
from herald.sources.rss.parse import Entry

HOUR = 3600 * 1_000_000


def entry(
    n: int, *, link: str | None = None, ident: str | None = None, dated: bool = True
) -> Entry:
    return Entry(
        id=ident or f"urn:{n}",
        title=f"e{n}",
        link=link if link is not None else f"https://example.com/{n}",
        order=n * HOUR if dated else 0,
    )


def remembered(entries: list[Entry]) -> Memory:
    return review(entries, Memory(), baseline=True, high_water=0).memory


def test_the_memory_round_trips_through_the_cursor_and_stays_bounded() -> None:
    memory = remembered([entry(n) for n in range(1, 4)])
    assert Memory.load(memory.dump()) == memory
    assert memory.pairs[0] == (digest("urn:1"), digest("https://example.com/1"))
    big = Memory(tuple((f"{i:012x}", "") for i in range(LIMIT * 2)))
    kept = review([entry(1)], big, baseline=False, high_water=HOUR).memory
    assert len(kept.pairs) == LIMIT and kept.pairs[0][0] == digest("urn:1")
    assert Memory.load("") == Memory() and Memory.load(None) == Memory()


def test_a_known_link_under_a_new_id_whose_old_id_left_is_churn() -> None:
    memory = remembered([entry(1), entry(2)])
    moved = [entry(1, ident="urn:1-v2"), entry(2)]
    result = review(moved, memory, baseline=False, high_water=2 * HOUR)
    assert [e.id for e in result.churned] == ["urn:1-v2"]
    assert [e.id for e in result.items] == ["urn:2"] and result.gap is None
    # remembered as before, so the next poll sees the same churn (and no new entry)
    again = review(moved, result.memory, baseline=False, high_water=2 * HOUR)
    assert [e.id for e in again.churned] == ["urn:1-v2"]
    # the baseline never calls anything churn
    assert review(moved, memory, baseline=True, high_water=0).churned == []


def test_a_shared_link_is_not_churn_while_its_first_id_is_still_shown() -> None:
    home = "https://example.com/"
    memory = remembered([entry(1, link=home)])
    result = review([entry(2, link=home), entry(1, link=home)], memory, baseline=False,
                    high_water=HOUR)  # fmt: skip
    assert result.churned == [] and [e.id for e in result.items] == ["urn:2", "urn:1"]


def test_a_feed_of_only_unseen_newer_entries_overflowed_its_window() -> None:
    memory = remembered([entry(1), entry(2)])
    flood = [entry(n) for n in range(5, 8)]
    gap = review(flood, memory, baseline=False, high_water=2 * HOUR).gap
    assert gap is not None and gap.reason == "feed_window"
    # one seen entry still shown, or an unseen one older than the newest seen: no gap
    assert review([*flood, entry(2)], memory, baseline=False, high_water=2 * HOUR).gap is None
    older = [Entry(id="urn:late", title="late", link="https://example.com/l", order=HOUR + 1)]
    older.append(entry(5))
    assert review(older, memory, baseline=False, high_water=2 * HOUR).gap is None
    # without dates there is nothing to compare: no gap
    undated = [entry(n, dated=False) for n in range(5, 8)]
    assert review(undated, memory, baseline=False, high_water=2 * HOUR).gap is None
    # and never on the baseline or with nothing remembered
    assert review(flood, memory, baseline=True, high_water=2 * HOUR).gap is None
    assert review(flood, Memory(), baseline=False, high_water=2 * HOUR).gap is None
