"""In-process twins of the store's Protocols: the same contract, no Redis.

They serve one-off polls that have no Redis, and tests of code above the store. Each one
passes the same contract suite as its Redis form (``tests/store/contract/``).
"""

from __future__ import annotations

from herald.store.memory.accounts import MemoryAccountRecords
from herald.store.memory.alerts import MemoryAlertStore
from herald.store.memory.bsky import MemoryBskyStore
from herald.store.memory.commands import MemoryCommandStore
from herald.store.memory.engagement import MemoryEngagementStore
from herald.store.memory.pollstate import (
    MemoryCursorStore,
    MemoryHeartbeats,
    MemoryLockStore,
    MemorySeenStore,
    MemorySnapshotStore,
)
from herald.store.memory.presence import MemoryPresence
from herald.store.memory.push import MemoryPushStore
from herald.store.memory.ratelimit import MemoryRateLimits
from herald.store.memory.webhooks import MemoryWebhookStore

__all__ = [
    "MemoryAccountRecords",
    "MemoryAlertStore",
    "MemoryBskyStore",
    "MemoryCommandStore",
    "MemoryCursorStore",
    "MemoryEngagementStore",
    "MemoryHeartbeats",
    "MemoryLockStore",
    "MemoryPresence",
    "MemoryPushStore",
    "MemoryRateLimits",
    "MemorySeenStore",
    "MemorySnapshotStore",
    "MemoryWebhookStore",
]
