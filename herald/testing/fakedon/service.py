"""fakedon's behaviour around the world: paging, headers, budgets, faults, feed access."""

from __future__ import annotations

import copy
import hashlib
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from herald.testing.fakedon.recordings import Json, Recordings
from herald.testing.fakedon.state import World

# Parameters Mastodon carries over into its Link headers (besides the id bounds).
CARRIED = ("limit", "local", "remote", "only_media", "pinned", "types[]", "exclude_types[]")
FEEDS = ("live_feeds", "hashtag_feeds")
REFUSALS = {
    401: '{"error":"The access token is invalid"}',
    403: '{"error":"This action is not allowed"}',
    422: '{"error":"This method requires an authenticated user"}',
}


@dataclass
class Budget:
    limit: int = 300
    window: float = 300.0
    used: dict[str, tuple[float, int]] = field(default_factory=dict)  # caller -> (reset, used)
    forced: tuple[int, float] | None = None  # (remaining, reset) set by the control API

    def spend(self, caller: str, clock: Callable[[], float]) -> tuple[int, float, bool]:
        """(remaining, reset epoch, allowed) after counting one request."""
        now = clock()
        if self.forced is not None:
            remaining, reset = self.forced
            if now >= reset:
                self.forced = None
            else:
                allowed = remaining > 0
                self.forced = (max(remaining - 1, 0), reset)
                return max(remaining - 1, 0), reset, allowed
        reset, used = self.used.get(caller, (0.0, 0))
        if now >= reset:
            reset, used = (now // self.window + 1) * self.window, 0
        allowed = used < self.limit
        used += allowed
        self.used[caller] = (reset, used)
        return self.limit - used, reset, allowed


def iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    )


@dataclass
class Fault:
    status: int
    count: int


class FakeDon:
    def __init__(self, recordings: Recordings, clock: Callable[[], float] = time.time) -> None:
        self.recordings = recordings
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.world = World.seed(self.recordings)
        self.requests: Counter[str] = Counter()
        self.budget = Budget()
        self.faults: list[Fault] = []
        self.access: dict[str, dict[str, str]] = {
            feed: {"local": "public", "remote": "public"} for feed in FEEDS
        }
        self.refusal: int | str = 422  # how a closed feed answers an anonymous caller
        self.retry_after: bool = False

    # --- answers ------------------------------------------------------------------------
    def headers(self, body: bytes, caller: str) -> tuple[dict[str, str], bool]:
        """The recorded header set with a fresh budget, etag and request id."""
        remaining, reset, allowed = self.budget.spend(caller, self.clock)
        headers = dict(self.recordings.headers)
        headers.update(
            {
                "x-ratelimit-limit": str(self.budget.limit),
                "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-reset": iso(reset),
                "x-request-id": str(uuid.uuid4()),
                "x-runtime": "0.001000",
                "etag": f'W/"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"',
            }
        )
        if not allowed and self.retry_after:
            headers["retry-after"] = str(max(1, int(reset - self.clock())))
        return headers, allowed

    def take_fault(self) -> int | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        fault.count -= 1
        if fault.count <= 0:
            self.faults.pop(0)
        return fault.status

    def closed(self, feed: str, parts: tuple[str, ...], authenticated: bool) -> str | None:
        """``disabled`` or ``authenticated`` when every part of ``feed`` is closed to the
        caller; None when it may read."""
        rules = self.access[feed]
        values = [rules[p] for p in parts]
        if all(v == "disabled" or (v == "authenticated" and not authenticated) for v in values):
            return "disabled" if "disabled" in values else "authenticated"
        return None

    def instance_v2(self) -> Json:
        doc = copy.deepcopy(self.recordings.instance_v2)
        doc["domain"] = self.world.host
        doc.setdefault("configuration", {})["timelines_access"] = {
            **(doc.get("configuration", {}).get("timelines_access") or {}),
            **copy.deepcopy(self.access),
        }
        return doc

    def instance_v1(self) -> Json:
        doc = copy.deepcopy(self.recordings.instance_v1)
        doc["uri"] = self.world.host
        stats = doc.setdefault("stats", {})
        stats["status_count"] = self.world.local_status_count()
        stats["user_count"] = sum(1 for a in self.world.accounts.values() if "@" not in a["acct"])
        return doc


def page(
    items: list[tuple[int, Json]], params: dict[str, str], path: str, base_url: str
) -> tuple[list[Json], str | None]:
    """Mastodon's id paging over ``items`` (newest first): ``max_id``, ``since_id``,
    ``min_id``, ``limit``; and the Link header it sends with the page."""
    limit = _limit(params.get("limit"), 20, 40 if "statuses" in path or "timelines" in path else 80)
    max_id, since_id, min_id = (_id(params.get(k)) for k in ("max_id", "since_id", "min_id"))
    chosen = [
        (key, item)
        for key, item in items
        if (max_id is None or key < max_id)
        and (since_id is None or key > since_id)
        and (min_id is None or key > min_id)
    ]
    chosen = chosen[-limit:] if min_id is not None else chosen[:limit]
    if not chosen:
        return [], None
    carried = {k: params[k] for k in CARRIED if k in params}
    links = []
    if not params.get("pinned"):
        older = urlencode(sorted({**carried, "max_id": str(chosen[-1][0])}.items()))
        links.append(f'<{base_url}{path}?{older}>; rel="next"')
    newer = urlencode(sorted({**carried, "min_id": str(chosen[0][0])}.items()))
    links.append(f'<{base_url}{path}?{newer}>; rel="prev"')
    return [item for _, item in chosen], ", ".join(links)


def _limit(value: str | None, default: int, most: int) -> int:
    try:
        return max(1, min(int(value), most)) if value else default
    except ValueError:
        return default


def _id(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def keyed(objects: list[Json]) -> list[tuple[int, Json]]:
    return [(int(o["id"]), o) for o in objects]


def params_of(query: Any) -> dict[str, str]:
    """A query's last value per name (``types[]`` kept as written)."""
    return {k: v for k, v in query.multi_items()}
