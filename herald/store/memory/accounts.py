"""The in-process twin of :class:`herald.store.accounts.AccountRecordStore`."""

from __future__ import annotations

from herald.events import Event
from herald.store.accounts import Raw, Verdict


class MemoryAccountRecords:
    def __init__(self) -> None:
        self._records: dict[str, dict[str, str | bytes]] = {}
        self._added: dict[str, float] = {}
        self.logged: dict[str, bytes] = {}
        """The events a transition appended, by eventId (the twin of the global log)."""

    async def sealed(self, account_id: str) -> bytes | None:
        value = self._records.get(account_id, {}).get("cookie")
        return value.encode() if isinstance(value, str) else value

    async def put(
        self, account_id: str, sealed: bytes | str, label: str | None, *, fresh: bool, now: float
    ) -> None:
        record = self._records.setdefault(account_id, {})
        record["cookie"] = sealed
        record.setdefault("addedAt", repr(now))
        record.setdefault("health", "ok")
        if label is not None:
            record["label"] = label
        if fresh:
            record.update(health="ok", healthReason="")
        self._added.setdefault(account_id, now)

    async def get(self, account_id: str) -> Raw:
        return dict(self._records.get(account_id, {}))

    async def all(self) -> list[tuple[str, Raw]]:
        ordered = sorted(self._added, key=lambda i: (self._added[i], i))
        return [
            (i, dict(self._records[i])) for i in ordered if "cookie" in self._records.get(i, {})
        ]

    async def remove(self, account_id: str) -> bool:
        self._added.pop(account_id, None)
        return self._records.pop(account_id, None) is not None

    async def set_health(self, account_id: str, health: str, reason: str) -> None:
        if account_id in self._added:
            self._records.setdefault(account_id, {}).update(health=health, healthReason=reason)

    async def touch(self, account_id: str, now: float) -> None:
        record = self._records.get(account_id)
        if record is not None and "cookie" in record:
            record["lastUsed"] = repr(now)

    async def transition(
        self, account_id: str, expected_seq: int, health: str, reason: str, event: Event
    ) -> Verdict | None:
        record = self._records.get(account_id)
        if record is None or "cookie" not in record:
            return None
        seq = int(record.get("healthSeq", 0))
        stored = str(record.get("health", "ok"))
        if seq != expected_seq:
            return Verdict("stale", stored, seq)
        if stored == health:
            record["healthReason"] = reason
            return Verdict("same", stored, seq)
        record.update(health=health, healthReason=reason, healthSeq=str(seq + 1))
        self.logged.setdefault(event.event_id, event.encode())
        return Verdict("moved", health, seq + 1)
