"""Recorded X responses served for the one user they were recorded against.

``--fixtures DIR`` points at a folder of recordings (or at a folder holding ``x/``). The
recorded user's profile, tweets, followers and mention search, and the recorded search's own
query, are answered from them, with what the control API added merged in front and removed
followers left out.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from herald.sources.models import User
from herald.sources.x.parse import parse_user, parse_users

Json = dict[str, Any]

FILES = {
    "UserByScreenName": "raw_user_by_login.json",
    "UserTweets": "raw_user_tweets.json",
    "Followers": "raw_followers.json",
    "SearchTimeline": "raw_search.json",
}
_INSTRUCTIONS = (
    ("data", "user", "result", "timeline", "timeline", "instructions"),
    ("data", "search_by_raw_query", "search_timeline", "timeline", "instructions"),
)


@dataclass
class Recordings:
    """The raw responses by operation name, and what the stand-in needs to know of them."""

    raw: dict[str, Json]
    user: User
    follower_ids: dict[str, str] = field(default_factory=dict)  # lower username -> id
    search_words: set[str] = field(default_factory=set)
    """What the recorded search was for: the words X highlighted in its results (lower case)."""

    @classmethod
    def load(cls, folder: Path) -> Recordings:
        if (folder / "x" / FILES["UserByScreenName"]).is_file():
            folder = folder / "x"
        raw: dict[str, Json] = {}
        for operation, name in FILES.items():
            path = folder / name
            if path.is_file():
                raw[operation] = json.loads(path.read_text("utf-8"))
        if "UserByScreenName" not in raw:
            raise FileNotFoundError(f"{folder / FILES['UserByScreenName']} is required")
        followers = parse_users(raw["Followers"]).users if "Followers" in raw else []
        return cls(
            raw=raw,
            user=parse_user(raw["UserByScreenName"]),
            follower_ids={u.username.lower(): u.id for u in followers},
            search_words=_highlighted(raw.get("SearchTimeline", {})),
        )

    def known_ids(self) -> list[str]:
        """Every snowflake in the recordings' tweet and user entries (new ids go above)."""
        ids = [self.user.id, *self.follower_ids.values()]
        for operation in ("UserTweets", "SearchTimeline"):
            for entry in _add_entries(self.raw.get(operation, {})):
                entry_id = str(entry.get("entryId", ""))
                if entry_id.startswith("tweet-") and entry_id[6:].isdigit():
                    ids.append(entry_id[6:])
        return ids

    def profile(self, followers: int, tweets: int) -> Json:
        """UserByScreenName with the counts moved by the control API."""
        doc = copy.deepcopy(self.raw["UserByScreenName"])
        _set_counts(doc["data"]["user"]["result"], followers, tweets)
        return doc

    def user_result(self, followers: int, tweets: int) -> Json:
        result: Json = self.profile(followers, tweets)["data"]["user"]["result"]
        return result

    def merged(
        self, operation: str, new_entries: list[Json], drop: set[str], *, first_page: bool = True
    ) -> Json | None:
        """The recording with ``new_entries`` in front and entries ``drop`` names left out;
        a later page leaves the pinned tweet out, as X shows it on the first page only."""
        if operation not in self.raw:
            return None
        doc = copy.deepcopy(self.raw[operation])
        entries = _add_entries(doc)
        kept = [e for e in entries if e.get("entryId") not in drop]
        entries[:] = new_entries + kept
        if not first_page:
            instructions = _instructions(doc)
            instructions[:] = [i for i in instructions if i.get("type") != "TimelinePinEntry"]
        return doc

    def pin_entry(self, operation: str) -> Json | None:
        """The recording's pinned-tweet entry, if it has one."""
        for instruction in _instructions(self.raw.get(operation, {})):
            if instruction.get("type") == "TimelinePinEntry":
                entry: Json = copy.deepcopy(instruction["entry"])
                return entry
        return None


def _highlighted(doc: Json) -> set[str]:
    """The words X highlighted in a recorded search's results: the query it answered."""
    words: set[str] = set()
    for entry in _add_entries(doc):
        content = entry.get("content", {}).get("itemContent", {})
        result = content.get("tweet_results", {}).get("result", {})
        text = result.get("tweet", result).get("legacy", {}).get("full_text", "")
        for mark in content.get("highlights", {}).get("textHighlights", []):
            start, end = mark.get("startIndex"), mark.get("endIndex")
            if isinstance(start, int) and isinstance(end, int) and isinstance(text, str):
                words.add(text[start:end].lower())
    words.discard("")
    return words


def _set_counts(result: Json, followers: int, tweets: int) -> None:
    if "relationship_counts" in result:
        result["relationship_counts"]["followers"] = followers
    if "tweet_counts" in result:
        result["tweet_counts"]["tweets"] = tweets
    legacy = result.get("legacy")
    if isinstance(legacy, dict):
        legacy["followers_count"] = followers
        legacy["statuses_count"] = tweets


def _instructions(doc: Json) -> list[Json]:
    """The timeline's instructions list (edited in place); empty when there is none."""
    for path in _INSTRUCTIONS:
        node: Any = doc
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, list):
            return node
    return []


def _add_entries(doc: Json) -> list[Json]:
    """The entries list of the first TimelineAddEntries instruction (edited in place)."""
    for instruction in _instructions(doc):
        if instruction.get("type") == "TimelineAddEntries":
            entries: list[Json] = instruction["entries"]
            return entries
    return []
