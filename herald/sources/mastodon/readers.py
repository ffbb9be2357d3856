"""The Mastodon readers: statuses, timelines, mentions and followers over an :class:`Api`.

Timelines are read newest first with ``since_id`` set to the newest id seen
(``ctx.high_water``): the first page holds the newest new statuses, and the ``next`` Link
(``max_id``) leads to older ones, still bounded by ``since_id``. A page shorter than the page
size is the last new one. After ``max_pages`` full pages the result carries a :class:`Gap`:
older new statuses, if any, were not read. The baseline reads one page, without
``since_id``, and announces nothing.

Followers: the exact ``followers_count`` from the account every poll; the newest page of
followers every poll (a swap leaves the count unchanged), and the whole list (the
snapshot, while the account is within the snapshot limit) on the baseline, when the count
changed and every ``resync_polls`` polls, because only a complete list can tell who left.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol
from urllib.parse import quote

from herald.errors import AccountAuthFailed, UserNotFound
from herald.sources.base import FetchResult, FollowerSnapshot, Gap, Notice, PollContext
from herald.sources.mastodon.client import Answer
from herald.sources.mastodon.parse import (
    Status,
    parse_account,
    parse_accounts,
    parse_mentions,
    parse_statuses,
)
from herald.sources.models import User

RESYNC_FIELD = "resyncIn"
FOLLOWER_PAGE = 80  # Mastodon's largest accounts page
NEWEST_PAGE = 40
HIDDEN_NOTED = "hiddenNoted"


class Api(Protocol):
    """GETs against one instance with the stream's caller (token or anonymous) bound."""

    @property
    def host(self) -> str: ...

    @property
    def authenticated(self) -> bool: ...

    async def get(
        self, path: str, params: dict[str, Any], *, what: str, timeline: bool = False
    ) -> Answer: ...


Parser = Callable[[Any, str], list[Status]]


async def read_pages(
    api: Api,
    path: str,
    params: dict[str, Any],
    ctx: PollContext,
    *,
    parse: Parser = parse_statuses,
    max_pages: int,
    page_size: int,
    what: str,
    timeline: bool = False,
) -> tuple[list[Status], Gap | None, bool]:
    """Pages newest first back to ``ctx.high_water``. Returns (statuses, gap, first page
    was empty)."""
    base = {**params, "limit": page_size}
    if ctx.baseline or ctx.high_water <= 0:
        answer = await api.get(path, base, what=what, timeline=timeline)
        page = parse(answer.body, api.host)
        return page, None, not page
    since = str(ctx.high_water)
    query: dict[str, Any] = {**base, "since_id": since}
    found: list[Status] = []
    for number in range(1, max(max_pages, 1) + 1):
        answer = await api.get(path, query, what=what, timeline=timeline)
        page = parse(answer.body, api.host)
        found.extend(page)
        if number == 1 and not page:
            return found, None, True
        older = answer.links.next_params().get("max_id")
        reached = any(s.order <= ctx.high_water for s in page)
        if len(page) < page_size or not older or reached:
            return found, None, False
        query = {**base, "since_id": since, "max_id": older}
    reason = (
        f"{max_pages} pages of new {what} since the last poll, the most one poll reads: "
        "older ones, if any, were not read (raise HERALD_MAX_PAGES or poll more often)"
    )
    return found, Gap(reason=reason, pages=max_pages), False


# --- accounts ----------------------------------------------------------------------
async def lookup(api: Api, user: str) -> tuple[User, dict[str, Any]]:
    """The account ``user`` (local to the instance) and its raw JSON."""
    answer = await api.get(
        "/api/v1/accounts/lookup", {"acct": user}, what=f"the account {user}@{api.host}"
    )
    if not isinstance(answer.body, dict):
        raise UserNotFound(f"the instance has no account {user}@{api.host}")
    return parse_account(answer.body, api.host), answer.body


async def account_id(api: Api, ctx: PollContext, user: str) -> str:
    """The account id, cached in the cursor, so a quiet poll costs one request."""
    if ctx.cursor.get("accountFor") == ctx.username and ctx.cursor.get("accountId"):
        return ctx.cursor["accountId"]
    return (await lookup(api, user))[0].id


async def read_statuses(
    api: Api, ctx: PollContext, user: str, *, max_pages: int, page_size: int
) -> FetchResult:
    ident = await account_id(api, ctx, user)
    statuses, gap, _ = await read_pages(
        api,
        f"/api/v1/accounts/{ident}/statuses",
        {},
        ctx,
        max_pages=max_pages,
        page_size=page_size,
        what=f"statuses of {ctx.username}",
    )
    return FetchResult(
        items=statuses, gap=gap, cursor={"accountId": ident, "accountFor": ctx.username}
    )


async def read_mentions(
    api: Api, ctx: PollContext, user: str | None, *, max_pages: int, page_size: int
) -> FetchResult:
    """Mention notifications of the token's own account (``target`` must be that account)."""
    cursor = dict(ctx.cursor)
    if cursor.get("meFor") != (ctx.account_id or ""):
        answer = await api.get(
            "/api/v1/accounts/verify_credentials", {}, what="the token's account"
        )
        me = parse_account(answer.body, api.host)
        cursor = {"me": me.username, "meFor": ctx.account_id or ""}
    if user is not None and cursor["me"].lower() != f"{user}@{api.host}".lower():
        raise AccountAuthFailed(
            f"the authToken belongs to {cursor['me']}, not to {ctx.username}: a mention stream "
            "reads the notifications of the token's own account"
        )
    mentions, gap, _ = await read_pages(
        api,
        "/api/v1/notifications",
        {"types[]": "mention"},
        ctx,
        parse=parse_mentions,
        max_pages=max_pages,
        page_size=min(page_size * 2, 80),
        what="mentions",
    )
    return FetchResult(items=mentions, gap=gap, cursor=cursor)


def tag_path(tag: str) -> str:
    return f"/api/v1/timelines/tag/{quote(tag, safe='')}"


# --- followers ---------------------------------------------------------------------
def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


async def read_followers(
    api: Api,
    ctx: PollContext,
    user: str,
    limit: int,
    *,
    max_pages: int = 1,
    resync_polls: int = 1,
) -> FetchResult:
    """The exact count, and the newest followers or the whole snapshot (see the module)."""
    account, _ = await lookup(api, user)
    count = account.followers_count or 0
    cursor = {"accountId": account.id, "accountFor": ctx.username}
    if ctx.cursor.get(HIDDEN_NOTED):
        cursor[HIDDEN_NOTED] = "1"
    if limit == 0:
        return FetchResult(followers=FollowerSnapshot(count, None, False), cursor=cursor)
    path = f"/api/v1/accounts/{account.id}/followers"
    left = _int(ctx.cursor.get(RESYNC_FIELD)) - 1
    full = ctx.baseline or (count <= limit and (count != ctx.previous_count or left <= 0))
    if not full:
        users, reached, more = await _newest(api, path, count, ctx.known, max_pages)
        if users is None:
            return _hidden(ctx, count, cursor)
        if reached or (not more and count > limit):
            cursor[RESYNC_FIELD] = str(max(left, 0))
            return FetchResult(followers=FollowerSnapshot(count, users, False), cursor=cursor)
        if count > limit:
            cursor[RESYNC_FIELD] = str(max(left, 0))
            return FetchResult(
                followers=FollowerSnapshot(count, users, False),
                cursor=cursor,
                gap=_follower_gap(ctx, count, users, max_pages),
            )
    listed = await _follower_list(api, path, limit, count)
    if listed is None:
        return _hidden(ctx, count, cursor)
    followers, ended = listed
    complete = count <= limit and (ended or len(followers) >= count)
    cursor[RESYNC_FIELD] = str(resync_polls)
    return FetchResult(followers=FollowerSnapshot(count, followers, complete), cursor=cursor)


def _hidden(ctx: PollContext, count: int, cursor: dict[str, str]) -> FetchResult:
    """The account hides its followers (an empty list beside a positive count): the count
    is all there is; said once."""
    notices: tuple[Notice, ...] = ()
    if not ctx.cursor.get(HIDDEN_NOTED):
        notices = (
            Notice(
                "followers_hidden",
                f"{ctx.username} hides its follower list: only the exact count is reported "
                "(stream:follower:count); no new or lost followers",
            ),
        )
    cursor[HIDDEN_NOTED] = "1"
    return FetchResult(
        followers=FollowerSnapshot(count, None, False), cursor=cursor, notices=notices
    )


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


async def _newest(
    api: Api, path: str, count: int, known: Collection[str], max_pages: int
) -> tuple[list[User] | None, bool, bool]:
    """Newest followers page by page until a known one: (followers or None when hidden,
    reached a known one, more pages offered)."""
    if count == 0:
        return [], False, False
    seen: dict[str, User] = {}
    params: dict[str, Any] = {"limit": NEWEST_PAGE}
    for number in range(max(max_pages, 1)):
        answer = await api.get(path, params, what="the newest followers")
        users = parse_accounts(answer.body, api.host)
        if number == 0 and not users:
            return None, False, False
        for user in users:
            seen.setdefault(user.id, user)
        if any(user.id in known for user in users):
            return list(seen.values()), True, True
        older = answer.links.next_params().get("max_id")
        if not users or not older:
            return list(seen.values()), False, False
        params = {"limit": FOLLOWER_PAGE, "max_id": older}
    return list(seen.values()), False, True


async def _follower_list(
    api: Api, path: str, limit: int, count: int
) -> tuple[list[User], bool] | None:
    """Followers page by page up to ``limit``: (followers, read to the end), or None when
    the instance shows none although the count says there are some (hidden)."""
    if count == 0:
        return [], True
    seen: dict[str, User] = {}
    params: dict[str, Any] = {"limit": FOLLOWER_PAGE}
    for number in range(limit // FOLLOWER_PAGE + 5):
        answer = await api.get(path, params, what="the followers")
        users = parse_accounts(answer.body, api.host)
        if number == 0 and not users:
            return None
        for user in users:
            seen.setdefault(user.id, user)
        if len(seen) >= limit:
            return list(seen.values())[:limit], len(seen) >= count
        older = answer.links.next_params().get("max_id")
        if not users or not older:
            return list(seen.values()), True
        params = {"limit": FOLLOWER_PAGE, "max_id": older}
    return list(seen.values()), False
