"""fakedon's world: accounts, statuses, follows and notifications, seeded from recordings.

New objects are copies of recorded ones with their fields changed, so they have every field
a real instance sends. Ids are Mastodon-like: statuses and accounts get snowflakes above
every recorded id, notifications and follows count up.
"""

from __future__ import annotations

import copy
import html
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from herald.testing.fakedon.recordings import RECORDED_HOST, Json, Recordings

_TAG = re.compile(r"(?<![\w/])#([\w·]+)", re.UNICODE)
_MENTION = re.compile(r"(?<![\w/])@([A-Za-z0-9_]+)(?:@[\w.:-]+)?")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Follow:
    id: int
    follower_id: str


@dataclass
class World:
    recordings: Recordings
    base_url: str = f"http://{RECORDED_HOST}"
    accounts: dict[str, Json] = field(default_factory=dict)
    statuses: dict[str, Json] = field(default_factory=dict)
    notifications: dict[str, list[Json]] = field(default_factory=dict)  # account id -> newest last
    follows: dict[str, list[Follow]] = field(default_factory=dict)  # account id -> oldest first
    tokens: dict[str, str] = field(default_factory=dict)  # token -> account id
    hidden_followers: set[str] = field(default_factory=set)
    _last_id: int = 0
    _counter: int = 100

    @classmethod
    def seed(cls, recordings: Recordings) -> World:
        world = cls(recordings)
        world.statuses = copy.deepcopy(recordings.statuses)
        world.accounts = _one_per_acct(recordings.accounts, world.statuses)
        world._last_id = max(recordings.known_ids(), default=0)
        for note in recordings.notifications:
            world._counter = max(world._counter, int(note["id"]))
            mentioned = note["status"].get("mentions") or []
            for target in mentioned:
                if target.get("id") in world.accounts:
                    world.notifications.setdefault(target["id"], []).append(copy.deepcopy(note))
        return world

    # --- ids ---------------------------------------------------------------------------
    def snowflake(self) -> str:
        self._last_id = max(self._last_id + 1, int(time.time() * 1000) << 16)
        return str(self._last_id)

    def counter(self) -> int:
        self._counter += 1
        return self._counter

    # --- accounts ------------------------------------------------------------------------
    def find(self, acct: str) -> Json | None:
        name = acct.lower().removeprefix("@")
        host = self.host.lower()
        if "@" in name:
            name, _, domain = name.partition("@")
            if domain not in (host, RECORDED_HOST):
                return None
        for account in self.accounts.values():
            if account["acct"].lower() == name:
                return account
        return None

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[-1]

    def create_account(self, username: str, display_name: str = "", locked: bool = False) -> Json:
        existing = self.find(username)
        if existing is not None:
            return existing
        account = copy.deepcopy(self.recordings.account_template)
        account_id = self.snowflake()
        url = f"{self.base_url}/@{username}"
        account.update(
            id=account_id,
            username=username,
            acct=username,
            display_name=display_name,
            locked=locked,
            url=url,
            uri=f"{self.base_url}/ap/users/{account_id}",
            note="",
            followers_count=0,
            following_count=0,
            statuses_count=0,
            created_at=_now_iso()[:10] + "T00:00:00.000Z",
            last_status_at=None,
            fields=[],
            emojis=[],
            roles=[],
        )
        self.accounts[account_id] = account
        return account

    def follow(self, target: Json, follower: Json) -> bool:
        follows = self.follows.setdefault(target["id"], [])
        if any(f.follower_id == follower["id"] for f in follows):
            return False
        follows.append(Follow(self.counter(), follower["id"]))
        target["followers_count"] = int(target.get("followers_count") or 0) + 1
        follower["following_count"] = int(follower.get("following_count") or 0) + 1
        return True

    def unfollow(self, target: Json, follower: Json) -> bool:
        follows = self.follows.get(target["id"], [])
        kept = [f for f in follows if f.follower_id != follower["id"]]
        if len(kept) == len(follows):
            return False
        self.follows[target["id"]] = kept
        target["followers_count"] = max(0, int(target.get("followers_count") or 0) - 1)
        follower["following_count"] = max(0, int(follower.get("following_count") or 0) - 1)
        return True

    # --- statuses ------------------------------------------------------------------------
    def post(self, author: Json, text: str, visibility: str = "public") -> Json:
        status = copy.deepcopy(self.recordings.status_template)
        status_id = self.snowflake()
        tags = sorted({t.lower() for t in _TAG.findall(text)})
        mentioned = [a for name in _MENTION.findall(text) if (a := self.find(name)) is not None]
        status.update(
            id=status_id,
            created_at=_now_iso(),
            visibility=visibility,
            language="en",
            uri=f"{self.base_url}/ap/users/{author['id']}/statuses/{status_id}",
            url=f"{self.base_url}/@{author['username']}/{status_id}",
            replies_count=0,
            reblogs_count=0,
            favourites_count=0,
            content=f"<p>{html.escape(text)}</p>",
            account=copy.deepcopy(author),
            reblog=None,
            in_reply_to_id=None,
            in_reply_to_account_id=None,
            mentions=[
                {"id": a["id"], "username": a["username"], "url": a["url"], "acct": a["acct"]}
                for a in mentioned
            ],
            tags=[{"name": t, "url": f"{self.base_url}/tags/{t}"} for t in tags],
        )
        status.pop("pinned", None)
        self.statuses[status_id] = status
        author["statuses_count"] = int(author.get("statuses_count") or 0) + 1
        author["last_status_at"] = status["created_at"][:10]
        for account in mentioned:
            if account["id"] != author["id"]:
                self._notify(account, author, status)
        return status

    def _notify(self, account: Json, sender: Json, status: Json) -> None:
        note_id = str(self.counter())
        note = {
            "id": note_id,
            "type": "mention",
            "created_at": status["created_at"],
            "group_key": f"ungrouped-{note_id}",
            "account": copy.deepcopy(sender),
            "status": copy.deepcopy(status),
        }
        self.notifications.setdefault(account["id"], []).append(note)

    # --- reads --------------------------------------------------------------------------
    def account_statuses(self, account_id: str) -> list[Json]:
        found = [s for s in self.statuses.values() if s["account"]["id"] == account_id]
        return sorted(found, key=lambda s: int(s["id"]), reverse=True)

    def public(self, local: bool, tag: str | None = None) -> list[Json]:
        found = []
        for status in self.statuses.values():
            if status.get("visibility") != "public":
                continue
            if local and "@" in status["account"]["acct"]:
                continue
            if tag is not None and tag.lower() not in {
                t["name"].lower() for t in status.get("tags") or []
            }:
                continue
            found.append(status)
        return sorted(found, key=lambda s: int(s["id"]), reverse=True)

    def followers(self, account_id: str) -> list[tuple[int, Json]]:
        """(follow id, follower) newest first."""
        follows = self.follows.get(account_id, [])
        return [(f.id, self.accounts[f.follower_id]) for f in reversed(follows)]

    def mention_notes(self, account_id: str) -> list[Json]:
        return sorted(
            self.notifications.get(account_id, []), key=lambda n: int(n["id"]), reverse=True
        )

    def local_status_count(self) -> int:
        return sum(1 for s in self.statuses.values() if "@" not in s["account"]["acct"])


def _one_per_acct(accounts: dict[str, Json], statuses: dict[str, Json]) -> dict[str, Json]:
    """The cassettes were recorded in several runs, so one username has several ids: keep,
    per username, the account that wrote the most recorded statuses."""
    authored: dict[str, int] = {}
    for status in statuses.values():
        author = status["account"]["id"]
        authored[author] = authored.get(author, 0) + 1
    best: dict[str, Json] = {}
    for account in accounts.values():
        acct = account["acct"].lower()
        held = best.get(acct)
        rank = (authored.get(account["id"], 0), int(account["id"]))
        if held is None or rank > (authored.get(held["id"], 0), int(held["id"])):
            best[acct] = account
    return {a["id"]: copy.deepcopy(a) for a in best.values()}
