"""The X readers: tweets, mentions and followers of one user, over a ``call(operation, vars)``.

They know X's pages and cursors, and nothing of accounts or Redis. A timeline or a search is
read newest first along X's Bottom cursor until a page reaches what the last poll saw
(``ctx.high_water``), for at most ``max_pages`` pages; past that the result carries a
:class:`Gap`, because herald knows it did not see everything. The baseline poll reads one page:
nothing on it is announced, so more would be wasted requests.

Followers: the newest page every poll (a swap leaves the count unchanged, so the count alone
hides a new follower), and the whole list (the snapshot, when the account is within the
snapshot limit) on the baseline, when the count changed, and every ``resync_polls`` polls,
because only a complete list can tell who left.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from herald.errors import EmptyResponse
from herald.sources.base import FetchResult, FollowerSnapshot, Gap, PollContext, Window
from herald.sources.models import Tweet, TweetPage, User
from herald.sources.x.parse import parse_tweets, parse_user, parse_users

Call = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]
# The cursor field counting the polls left until the next full follower read.
RESYNC_FIELD = "resyncIn"
# Followers asked for on the first newest-followers page of a poll (X's page is 100).
NEWEST_PAGE = 20


def _screen_name(username: str) -> str:
    return username.strip().lstrip("@")


def _require_entries(page: TweetPage, what: str) -> None:
    """No entries at all, not even cursors, is X failing quietly, not "nothing new"."""
    if not page.tweets and page.cursor_top is None and page.cursor_bottom is None:
        raise EmptyResponse(
            f"X returned an empty {what}: treated as a failed fetch, not as 'nothing new'"
        )


async def _user(call: Call, name: str) -> User:
    return parse_user(await call("UserByScreenName", {"screen_name": name}))


# What a gap's reason calls the items of each type.
_NOUNS = {"tweet": "tweets", "mention": "mentions", "x:search": "tweets matching the search"}


# --- timelines and searches --------------------------------------------------------------
def _reached(tweets: list[Tweet], high_water: int) -> bool:
    """A page reaches the last poll when its last tweet is no newer than the newest seen, or
    it has no tweet at all (the end). The pinned tweet, shown first whatever its age, says
    nothing; nor does an old tweet higher up, such as the start of a thread the user just
    replied to, which X shows beside the new reply."""
    unpinned = [t for t in tweets if not t.pinned]
    return not unpinned or unpinned[-1].order <= high_water


def window_of(tweets: list[Tweet]) -> Window | None:
    """What a read that ended where it should (the last poll's tweets, or the end) covered:
    from the top down to its last unpinned tweet. The last, not the oldest: X shows the
    start of a thread beside its new reply (a conversation module, oldest first), and that
    old tweet says nothing about the tweets between it and the rest of the page."""
    unpinned = [t for t in tweets if not t.pinned]
    if not unpinned or unpinned[-1].order == 0:
        return None  # only the pinned tweet: X failing quietly as often as an empty profile
    return Window(floor=unpinned[-1].order)


async def _read_pages(
    call: Call,
    operation: str,
    variables: Mapping[str, Any],
    ctx: PollContext,
    what: str,
    max_pages: int,
) -> tuple[list[Tweet], Gap | None, Window | None]:
    """Pages newest first until one reaches ``ctx.high_water``; a Gap when ``max_pages``
    pages were all new and X still offered an older one (and then no window)."""
    tweets: list[Tweet] = []
    cursor: str | None = None
    for number in range(1, max(max_pages, 1) + 1):
        page_variables = {**variables, "cursor": cursor} if cursor else variables
        page = parse_tweets(await call(operation, page_variables))
        if number == 1:
            _require_entries(page, what)
        tweets.extend(page.tweets)
        if ctx.baseline or _reached(page.tweets, ctx.high_water):
            return tweets, None, window_of(tweets)
        if not page.cursor_bottom or page.cursor_bottom == cursor:
            return tweets, None, window_of(tweets)
        cursor = page.cursor_bottom
    reason = (
        f"{max_pages} pages of new {_NOUNS.get(ctx.type, 'tweets')} since the last poll, "
        "the most one poll reads: "
        "older ones, if any, were not read (raise HERALD_MAX_PAGES or poll more often)"
    )
    return tweets, Gap(reason=reason, pages=max_pages), None


async def read_tweets(call: Call, ctx: PollContext, max_pages: int = 1) -> FetchResult:
    """The user's timeline back to the last poll (pinned tweet included, flagged); the user
    id is cached in the cursor so a poll with nothing new costs one request."""
    name = _screen_name(ctx.username)
    user_id = ctx.cursor.get("userId") if ctx.cursor.get("userFor") == name.lower() else None
    if not user_id:
        user_id = (await _user(call, name)).id
    what = f"timeline for @{name}"
    tweets, gap, window = await _read_pages(
        call, "UserTweets", {"userId": user_id}, ctx, what, max_pages
    )
    cursor = {"userId": user_id, "userFor": name.lower()}
    return FetchResult(items=tweets, cursor=cursor, gap=gap, window=window)


async def read_mentions(call: Call, ctx: PollContext, max_pages: int = 1) -> FetchResult:
    """The latest search for ``@user`` back to the last poll, without the user's own tweets."""
    name = _screen_name(ctx.username)
    variables = {"rawQuery": f"@{name} -from:{name}", "product": "Latest"}
    what = f"mention search for @{name}"
    # no window: X's search leaves tweets out as it pleases, so an absence proves nothing
    tweets, gap, _ = await _read_pages(call, "SearchTimeline", variables, ctx, what, max_pages)
    mentions = [t for t in tweets if t.author.lower() != name.lower()]
    return FetchResult(items=mentions, cursor=dict(ctx.cursor), gap=gap)


async def read_search(call: Call, ctx: PollContext, max_pages: int = 1) -> FetchResult:
    """The Latest tab of X's search for the stream's query, back to the last poll.

    The query goes to X as the user typed it (the target was checked when the stream
    started); every tweet X finds is the stream's, so nothing is filtered here.
    """
    query = ctx.username
    variables = {"rawQuery": query, "product": "Latest"}
    what = f"search for {query!r}"
    tweets, gap, _ = await _read_pages(call, "SearchTimeline", variables, ctx, what, max_pages)
    return FetchResult(items=tweets, cursor=dict(ctx.cursor), gap=gap)


# --- followers ---------------------------------------------------------------------------
async def read_followers(
    call: Call,
    ctx: PollContext,
    limit: int,
    *,
    max_pages: int = 1,
    resync_polls: int = 1,
) -> FetchResult:
    """The exact profile count, and the newest followers or the whole snapshot (see above)."""
    name = _screen_name(ctx.username)
    user = await _user(call, name)
    count = user.followers_count or 0
    cursor = {"userId": user.id, "userFor": name.lower()}
    if limit == 0:  # no snapshot kept for this stream: the count is all there is
        return FetchResult(followers=FollowerSnapshot(count, None, False), cursor=cursor)
    left = _int(ctx.cursor.get(RESYNC_FIELD)) - 1
    full = ctx.baseline or (count <= limit and (count != ctx.previous_count or left <= 0))
    if not full:
        users, reached, more = await _newest(call, user.id, name, count, ctx.known, max_pages)
        if reached or (not more and count > limit):
            cursor[RESYNC_FIELD] = str(max(left, 0))
            return FetchResult(followers=FollowerSnapshot(count, users, False), cursor=cursor)
        if count > limit:  # no full read can catch up: say what was not seen
            cursor[RESYNC_FIELD] = str(max(left, 0))
            return FetchResult(
                followers=FollowerSnapshot(count, users, False),
                cursor=cursor,
                gap=_follower_gap(ctx, count, users, max_pages),
            )
        # within the limit: the whole list costs a few requests and tells everything
    followers, ended = await _follower_list(call, user.id, name, limit, count)
    complete = count <= limit and (ended or len(followers) >= count)
    cursor[RESYNC_FIELD] = str(resync_polls)
    return FetchResult(followers=FollowerSnapshot(count, followers, complete), cursor=cursor)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _follower_gap(ctx: PollContext, count: int, users: list[User], pages: int) -> Gap:
    new = sum(1 for u in users if u.id not in ctx.known)
    grown = count - ctx.previous_count if ctx.previous_count is not None else 0
    missed = grown - new
    return Gap(
        reason=(
            f"{pages} pages of new followers since the last poll, the most one poll reads, "
            "and more than the snapshot limit: older new followers, if any, were not read"
        ),
        missed=missed if missed > 0 else None,
        pages=pages,
    )


def _empty_list(name: str, count: int) -> EmptyResponse:
    return EmptyResponse(
        f"X returned an empty follower list for @{name} (profile count {count}): "
        "treated as a failed fetch"
    )


async def _newest(
    call: Call, user_id: str, name: str, count: int, known: Collection[str], max_pages: int
) -> tuple[list[User], bool, bool]:
    """The newest followers, page by page until one already known.

    Returns (followers, reached a known one, X offered more pages).
    """
    seen: dict[str, User] = {}
    if count == 0:
        return [], False, False
    cursor: str | None = None
    for number in range(max(max_pages, 1)):
        # the first page is small: most polls find a known follower at once, and parsing
        # users is most of a follower poll's CPU; later pages take X's full page
        variables: dict[str, Any] = {"userId": user_id, "count": NEWEST_PAGE}
        if cursor:
            variables = {"userId": user_id, "cursor": cursor}
        page = parse_users(await call("Followers", variables))
        if number == 0 and not page.users and not (page.cursor_top or page.cursor_bottom):
            raise _empty_list(name, count)
        for user in page.users:
            seen.setdefault(user.id, user)
        if any(user.id in known for user in page.users):
            return list(seen.values()), True, True
        if not page.users or not page.cursor_bottom or page.cursor_bottom == cursor:
            return list(seen.values()), False, False
        cursor = page.cursor_bottom
    return list(seen.values()), False, True


async def _follower_list(
    call: Call, user_id: str, name: str, limit: int, count: int
) -> tuple[list[User], bool]:
    """Followers page by page up to ``limit``; says whether the list was read to its end."""
    if count == 0 or limit == 0:
        return [], count == 0
    seen: dict[str, User] = {}
    cursor: str | None = None
    for page_number in range(limit // 10 + 5):
        variables: dict[str, Any] = {"userId": user_id}
        if cursor:
            variables["cursor"] = cursor
        page = parse_users(await call("Followers", variables))
        if page_number == 0 and not page.users and not (page.cursor_top or page.cursor_bottom):
            raise _empty_list(name, count)
        before = len(seen)
        for user in page.users:
            seen.setdefault(user.id, user)
        if len(seen) >= limit:
            return list(seen.values())[:limit], len(seen) >= count
        if not page.cursor_bottom or page.cursor_bottom == cursor or len(seen) == before:
            return list(seen.values()), True
        cursor = page.cursor_bottom
    return list(seen.values()), False
