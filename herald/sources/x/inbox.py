"""The ``x:dm`` reader: the account's own direct-message inbox over a ``call(operation,
params)``, as X's web app reads it.

The first poll reads the initial state (the newest messages of each conversation) and keeps
its ``cursor``: the baseline, announced to nobody. Every later poll asks X for the events
after the stored cursor (``user_updates``), page after page while X says more is waiting,
for at most ``max_pages`` pages; the cursor of the last page read is kept with the stream,
so a poll that stops early, a failed poll or a restarted worker resumes exactly there and
nothing is skipped. New messages are then told apart by the posts diff (message ids are
snowflakes) and appended once by their ids.

The cursor belongs to one account's inbox: when a stream's account changes (a new
``authToken``), the new inbox is read from its initial state again and nothing of it is
announced (a ``notice`` says so). When X refuses the stored cursor (HTTP 400: too old), the
inbox is read from its current state and a ``stream:gap`` says messages in between may have
been missed.

A conversation herald cannot read (end-to-end encrypted) becomes one
``stream:dm:unreadable`` change; the ids of conversations already reported are kept in
the cursor (the newest :data:`NOTICED_KEPT`), and the event id is the conversation's, so
a notice is said once per conversation, not once per poll.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from herald.errors import SchemaError
from herald.events import EventType
from herald.sources.base import Change, FetchResult, Gap, Notice, PollContext
from herald.sources.x.answers import BadRequest
from herald.sources.x.dms import DirectMessage, InboxPage, Unreadable, parse_inbox
from herald.sources.x.parse import parse_user
from herald.sources.x.readers import Call

INITIAL = "DMInboxInitialState"
UPDATES = "DMUserUpdates"
SETTINGS = "AccountSettings"
REST_PATHS: dict[str, str] = {
    INITIAL: "/i/api/1.1/dm/inbox_initial_state.json",
    UPDATES: "/i/api/1.1/dm/user_updates.json",
    SETTINGS: "/i/api/1.1/account/settings.json",
}
"""The REST (1.1) endpoints of the web app that the DM reader calls, by operation name."""

# The query X's web app sends with both inbox requests (as twikit, offline-twitter-engine
# and the-convocation twitter-scraper send it): every conversation, with its users.
PARAMS: dict[str, str] = {
    "nsfw_filtering_enabled": "false",
    "filter_low_quality": "false",
    "include_quality": "all",
    "dm_secret_conversations_enabled": "false",
    "krs_registration_enabled": "false",
    "cards_platform": "Web-12",
    "include_cards": "1",
    "dm_users": "true",
    "include_groups": "true",
    "include_inbox_timelines": "true",
    "supports_reactions": "true",
}
CURSOR_FIELD = "dmCursor"
SELF_FIELD = "selfId"
NOTICED_FIELD = "unreadable"
ACCOUNT_FIELD = "inboxOf"
NOTICED_KEPT = 500


async def own_user_id(call: Call) -> str:
    """The account's user id: its handle from the account settings, then its profile."""
    settings = await call(SETTINGS, {})
    name = settings.get("screen_name")
    if not isinstance(name, str) or not name:
        raise SchemaError("the account settings name no screen_name", path="screen_name")
    return parse_user(await call("UserByScreenName", {"screen_name": name})).id


async def _updates(call: Call, position: str, self_id: str, max_pages: int) -> list[InboxPage]:
    pages: list[InboxPage] = []
    for _ in range(max(max_pages, 1)):
        page = parse_inbox(await call(UPDATES, {**PARAMS, "cursor": position}), self_id)
        pages.append(page)
        if not page.has_more or page.cursor == position:
            break
        position = page.cursor
    return pages


def _noticed(cursor: Mapping[str, str]) -> list[str]:
    return [c for c in cursor.get(NOTICED_FIELD, "").split(",") if c]


def unreadable_change(item: Unreadable) -> Change:
    return Change(EventType.DM_UNREADABLE, item.conversation_id, item.payload())


async def read_dms(
    call: Call, ctx: PollContext, max_pages: int = 1, account_id: str | None = None
) -> FetchResult:
    """The inbox since the stored cursor (the initial state on the baseline).

    ``account_id`` is the account read with: a cursor of another account's inbox is not
    resumed from.
    """
    state = dict(ctx.cursor)
    moved = bool(state.get(CURSOR_FIELD)) and state.get(ACCOUNT_FIELD, account_id) != account_id
    if moved:
        state = {k: v for k, v in state.items() if k == NOTICED_FIELD}
    self_id = state.get(SELF_FIELD) or await own_user_id(call)
    stored = state.get(CURSOR_FIELD)
    gap: Gap | None = None
    notices: tuple[Notice, ...] = ()
    announce = True
    if ctx.baseline or not stored:
        pages = [parse_inbox(await call(INITIAL, PARAMS), self_id)]
        announce = ctx.baseline  # a baseline announces nothing anyway; a moved inbox neither
        if moved:
            notices = (Notice("inbox_changed", _MOVED),)
    else:
        try:
            pages = await _updates(call, stored, self_id, max_pages)
        except BadRequest:
            pages = [parse_inbox(await call(INITIAL, PARAMS), self_id)]
            announce, gap = False, Gap(reason=_REFUSED)
    return _result(pages, state, self_id, account_id, announce=announce, gap=gap, notices=notices)


_MOVED = (
    "the stream's X account changed: its inbox was read again from its current state, and "
    "only messages that arrive from now on are reported"
)
_REFUSED = (
    "X no longer accepts the stored inbox cursor (too old): the inbox was read again from "
    "its current state, and messages that arrived in between may not have been reported"
)


def _result(
    pages: list[InboxPage],
    state: Mapping[str, str],
    self_id: str,
    account_id: str | None,
    *,
    announce: bool,
    gap: Gap | None,
    notices: tuple[Notice, ...],
) -> FetchResult:
    messages: dict[str, DirectMessage] = {}
    unreadable: dict[str, Unreadable] = {}
    for page in pages:
        for message in page.messages:
            messages.setdefault(message.id, message)
        for item in page.unreadable:
            unreadable.setdefault(item.conversation_id, item)
    noticed = _noticed(state)
    fresh = [u for u in unreadable.values() if u.conversation_id not in noticed]
    kept = [*noticed, *(u.conversation_id for u in fresh)][-NOTICED_KEPT:]
    cursor = {CURSOR_FIELD: pages[-1].cursor, SELF_FIELD: self_id}
    if account_id:
        cursor[ACCOUNT_FIELD] = account_id
    if kept:
        cursor[NOTICED_FIELD] = ",".join(kept)
    items: list[Any] = sorted(messages.values(), key=lambda m: m.order, reverse=True)
    return FetchResult(
        items=items if announce else [],
        cursor=cursor,
        changes=tuple(unreadable_change(u) for u in fresh),
        gap=gap,
        notices=notices,
    )
