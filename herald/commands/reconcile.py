"""Settling commands whose outcome is unknown, without ever sending a post twice.

Every ``HERALD_COMMAND_RECONCILE_INTERVAL`` the reconciler (where a worker runs) looks at
the commands not yet settled:

- ``requested`` past its runner's lease: the runner died before sending; ``failed``
  (``not_sent``, retryable), since nothing left herald.
- ``running`` past its lease: the runner died mid-send (kill -9); ``uncertain``.
- ``uncertain``:
  - ``post_tweet`` is looked for, never re-sent: the account's own timeline (with replies
    when it was a reply) is read, and a tweet with the same text (URLs aside: X rewrites
    them), posted no earlier than a minute before ``requestedAt``, settles it as
    ``succeeded`` with that tweet. Not found ``HERALD_COMMAND_SETTLE_AFTER`` seconds after
    ``requestedAt``: ``failed`` (``not_posted``).
  - likes, unlikes, retweets, unretweets and deletes are re-issued: each sets a state
    (liked, not liked, retweeted, not retweeted, gone) rather than adding something, so
    applying it twice is applying it once. X's "already liked" (139), "already
    retweeted" (327) and, for a delete, "no such tweet" (144) then mean the first attempt
    worked. One is not re-issued when a later command on the same tweet exists (a like
    re-issued after an unlike would undo it): it fails as ``superseded``.

Several reconcilers may run at once: every move is a compare-and-set on the command's
state, so one settles it and one event is logged; a re-issued like twice is still a like.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import Any

from herald.commands.outcomes import Outcome, error, outcome_of
from herald.commands.service import FINAL_STATES, CommandService, epoch_of
from herald.sources.models import Tweet
from herald.sources.x.mutations import tweet_url

log = logging.getLogger(__name__)

_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")
EARLY = 60.0
"""Seconds before ``requestedAt`` a found tweet may carry (clocks of herald and X differ)."""
BATCH = 200
RECENT = 1000
"""Recent commands whose tweets a post being looked for may not claim."""
TWITTER_EPOCH_MS = 1288834974657


def snowflake_epoch(tweet_id: str) -> float:
    """When X made an id (seconds): its top bits are milliseconds since X's epoch."""
    try:
        return ((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000.0
    except ValueError:
        return 0.0


def same_text(posted: str, wanted: str) -> bool:
    """X rewrites links to t.co and may trim whitespace: compare without either."""

    def norm(value: str) -> str:
        return _SPACE.sub(" ", _URL.sub("<url>", value)).strip()

    return norm(posted) == norm(wanted)


class CommandReconciler:
    def __init__(self, service: CommandService) -> None:
        self.service = service
        self.settings = service.settings
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def run_once(self) -> int:
        """One pass over the open commands; how many it settled or moved."""
        moved = 0
        store = self.service.store
        for command_id in await store.open_ids(BATCH):
            stored = await store.get(command_id)
            if stored is None:
                continue
            try:
                if await self._visit(stored.doc, stored.state, stored.lease):
                    moved += 1
            except Exception:
                log.exception("could not reconcile command %s", command_id)
        return moved

    async def _visit(self, doc: dict[str, Any], state: str, lease: int) -> bool:
        now = self.service.now()
        expired = lease / 1000.0 < now
        if state in FINAL_STATES or expired:
            # a runner that died between a move and its event left that event unlogged:
            # append it (once: event ids are derived from the command id) before going on
            requested = {k: v for k, v in doc.items() if k not in ("result", "error")}
            await self.service.log_state({**requested, "state": "requested"})
            if state in FINAL_STATES:
                await self.service.log_state(doc)
        if state in ("succeeded", "failed"):
            return False
        if state == "requested" and expired:
            message = "herald stopped before sending it: nothing reached X"
            unsent = Outcome("failed", error=error("not_sent", message, retryable=True))
            return await self.service.settle(doc, ("requested",), unsent) is not None
        if state == "running" and expired:
            message = "herald stopped while sending it: X may or may not have applied it"
            lapsed = Outcome("uncertain", error=error("outcome_unknown", message, retryable=False))
            settled = await self.service.settle(doc, ("running",), lapsed)
            if settled is None:
                return False
            doc = settled
            state = "uncertain"
        if state != "uncertain":
            return False
        found = await self._settle_uncertain(doc, now)
        if found is None:
            return False
        return await self.service.settle(doc, ("uncertain",), found) is not None

    async def _settle_uncertain(self, doc: Mapping[str, Any], now: float) -> Outcome | None:
        late = now - epoch_of(doc.get("requestedAt")) > self.settings.command_settle_after
        account_id = str(doc["accountId"])
        if await self.service.store.paused(account_id) is not None:
            return self._give_up(doc) if late else None
        try:
            if doc["type"] == "post_tweet":
                return await self._find_post(doc, late)
            later = await self._later_on_same_tweet(doc)
            if later is not None:
                message = (
                    f"not re-issued: a later command ({later}) on the same tweet set its state; "
                    "whether this one was applied is unknown and no longer matters"
                )
                return Outcome("failed", error=error("superseded", message, retryable=False))
            result = await self.service.writer.send(account_id, doc["type"], doc["data"])
            return Outcome("succeeded", result)
        except Exception as exc:
            outcome = outcome_of(exc, doc["type"], doc["data"], retry=True)
            if outcome.state == "uncertain":
                return self._give_up(doc) if late else None
            return outcome

    async def _find_post(self, doc: Mapping[str, Any], late: bool) -> Outcome | None:
        data = doc["data"]
        since = epoch_of(doc.get("requestedAt")) - EARLY
        tweets = await self.service.writer.own_tweets(
            str(doc["accountId"]), replies=bool(data.get("reply_to_tweet_id"))
        )
        taken = await self._claimed_tweets(str(doc["id"]))
        found = next((t for t in tweets if t.id not in taken and _matches(t, data, since)), None)
        if found is not None:
            result = {
                "tweetId": found.id,
                "url": found.url or tweet_url(found.author, found.id),
                "text": found.text,
            }
            return Outcome("succeeded", result)
        if not late:
            return None
        message = (
            f"not on the account's timeline {self.settings.command_settle_after:g}s after it "
            "was requested: X did not apply it"
        )
        return Outcome("failed", error=error("not_posted", message, retryable=True))

    async def _later_on_same_tweet(self, doc: Mapping[str, Any]) -> str | None:
        """The id of a command requested after this one for the same account and tweet: a
        re-issued like must not undo a later unlike."""
        since = epoch_of(doc.get("requestedAt"))
        for stored in await self.service.store.recent(RECENT):
            other = stored.doc
            if (
                other.get("id") != doc["id"]
                and other.get("accountId") == doc["accountId"]
                and other.get("type") != "post_tweet"
                and other.get("data", {}).get("tweet_id") == doc["data"].get("tweet_id")
                and epoch_of(other.get("requestedAt")) >= since
            ):
                return str(other.get("id"))
        return None

    async def _claimed_tweets(self, command_id: str) -> set[str]:
        """Tweets other recent commands posted: the same text posted by another command is
        that command's tweet, not this one's."""
        claimed: set[str] = set()
        for stored in await self.service.store.recent(RECENT):
            result = stored.doc.get("result")
            if stored.doc.get("id") != command_id and isinstance(result, dict):
                tweet_id = result.get("tweetId")
                if isinstance(tweet_id, str):
                    claimed.add(tweet_id)
        return claimed

    def _give_up(self, doc: Mapping[str, Any]) -> Outcome:
        message = (
            f"could not confirm it within {self.settings.command_settle_after:g}s "
            "(HERALD_COMMAND_SETTLE_AFTER); check the account on x.com"
        )
        return Outcome("failed", error=error("unconfirmed", message, retryable=False))

    # --- the loop ------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._loop(), name="command-reconciler")

    async def stop(self) -> None:
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _loop(self) -> None:
        interval = self.settings.command_reconcile_interval
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("command reconciliation failed; retrying in %.1fs", interval)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=interval)
            except TimeoutError:
                continue


def _matches(tweet: Tweet, data: Mapping[str, Any], since: float) -> bool:
    if not same_text(tweet.text, str(data["text"])):
        return False
    reply_to = data.get("reply_to_tweet_id")
    if reply_to and tweet.in_reply_to_id not in (None, reply_to):
        return False
    return snowflake_epoch(tweet.id) >= since
