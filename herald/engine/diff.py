"""The pure diff: turns what a source returned into the changes worth an event.

No I/O here: the poller loads what is needed (which fetched ids are already seen, the
seen floor, the follower snapshot), calls these functions, and stores their answer.

- **Baseline.** The first poll records what exists and reports nothing.
- **Posts.** New means: not seen before, newer than the oldest id still remembered
  (so an old post sliding into the fetched window is not "new"), and — for a pinned
  post — newer than anything seen (an old post pinned today is not new).
- **Followers.** ``new`` for ids not in the snapshot; ``lost`` only when the fetched list
  is complete, because a follower missing from a partial window has merely scrolled out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from herald.sources.base import FollowerSnapshot
from herald.sources.models import Item, User

ItemT = TypeVar("ItemT", bound=Item)


@dataclass(frozen=True, slots=True)
class PostDiff(Generic[ItemT]):
    new: list[ItemT]
    """New posts, oldest first (the order clients should see them in)."""
    to_remember: list[ItemT]
    """Fetched posts not yet in the seen set."""
    high_water: int


def diff_posts(
    fetched: Sequence[ItemT],
    already_seen: Collection[str],
    *,
    floor: int | None,
    high_water: int,
    baseline: bool,
) -> PostDiff[ItemT]:
    unique: dict[str, ItemT] = {}
    for post in fetched:
        unique.setdefault(post.id, post)
    unseen = [p for p in unique.values() if p.id not in already_seen]
    top = max((p.order for p in unique.values()), default=0)
    new_high = max(high_water, top)
    if baseline:
        return PostDiff(new=[], to_remember=unseen, high_water=new_high)
    new = [p for p in unseen if _is_new(p, floor=floor, high_water=high_water)]
    new.sort(key=lambda p: (p.order, p.id))
    return PostDiff(new=new, to_remember=unseen, high_water=new_high)


def _is_new(post: Item, *, floor: int | None, high_water: int) -> bool:
    order = post.order
    if order == 0:  # ids that are not numbers carry no age: unseen is new
        return not post.pinned
    if floor is not None and order <= floor:
        return False
    return not (post.pinned and order <= high_water)


@dataclass(frozen=True, slots=True)
class FollowerDiff:
    count: int
    previous: int | None
    new: list[User] = field(default_factory=list)
    lost: list[User] = field(default_factory=list)
    snapshot_add: dict[str, str] = field(default_factory=dict)
    """Follower id -> username to add to the snapshot."""
    snapshot_remove: list[str] = field(default_factory=list)

    @property
    def count_changed(self) -> bool:
        return self.previous is not None and self.count != self.previous


def diff_followers(
    snapshot: FollowerSnapshot,
    known: Mapping[str, str],
    *,
    previous_count: int | None,
    baseline: bool,
) -> FollowerDiff:
    """``known`` is the stored snapshot: follower id -> username."""
    fetched = snapshot.followers
    previous = None if baseline else previous_count
    if fetched is None:
        return FollowerDiff(count=snapshot.count, previous=previous)
    by_id = {u.id: u for u in fetched}
    additions = {uid: u.username for uid, u in by_id.items() if uid not in known}
    removals = [uid for uid in known if uid not in by_id] if snapshot.complete else []
    if baseline:
        return FollowerDiff(
            count=snapshot.count,
            previous=None,
            snapshot_add=additions,
            snapshot_remove=removals,
        )
    new = [by_id[uid] for uid in additions]
    lost = [User(id=uid, username=known[uid]) for uid in removals]
    return FollowerDiff(
        count=snapshot.count,
        previous=previous,
        new=new,
        lost=lost,
        snapshot_add=additions,
        snapshot_remove=removals,
    )
