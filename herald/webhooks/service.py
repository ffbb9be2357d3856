"""The webhooks service every surface uses (REST, CLI, MCP, dashboard): JSON in, JSON out.

Validation happens here, once, before the store is touched: a refused endpoint stores
nothing. The secret is sealed before it is stored and is in exactly one answer, the
create's (``secret``); every other answer shows ``secretHint``. A manual resend and a test
send go out from the process that was asked, straight away, outside the endpoint's ordered
queue (the consumer's offset does not move); each is recorded as an attempt. A skip is the
one manual move of that offset: past the event a disabled endpoint is held on, and only it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from herald.errors import NotFound, ValidationError
from herald.events import utc_now_iso
from herald.store.eventlog import EventLog
from herald.store.logentry import Entry, is_offset, offset_key
from herald.store.secrets import Cipher
from herald.store.webhooks import WebhookStore
from herald.webhooks import signing
from herald.webhooks.consumer import attempt_record
from herald.webhooks.model import (
    EndpointExists,
    NotHeld,
    NothingHeld,
    WebhookChanged,
    WebhookEnabled,
    parse_endpoint,
    public,
    refuse,
)
from herald.webhooks.safety import check_target
from herald.webhooks.sender import Limits, new_client, send

#: How far back a resend by eventId looks in the global log when the stream's history
#: does not have it.
SCAN_LIMIT = 20_000
MAX_ATTEMPTS_SHOWN = 1000
#: How many of the stream's recent events a resend by eventId looks through first.
HISTORY_LIMIT = 2000


class WebhooksManager:
    def __init__(
        self, store: WebhookStore, log: EventLog, cipher: Callable[[], Cipher], limits: Limits
    ) -> None:
        self.store = store
        self._log = log
        self._cipher = cipher
        self.limits = limits

    # --- reading ---------------------------------------------------------------------
    async def _answer(self, endpoint: Mapping[str, Any]) -> dict[str, Any]:
        state = await self.store.state(str(endpoint["id"]))
        failing = None
        if state.get("retryOffset"):
            failing = {
                "offset": state["retryOffset"],
                "attempts": int(state.get("retryAttempts") or 0),
                "nextAt": _iso_ms(state.get("nextAt")),
                "since": _iso_ms(state.get("failingSince")),
                "lastError": state.get("lastError"),
            }
        status = {
            "health": state.get("health", "ok"),
            "offset": state.get("offset"),
            "delivered": int(state.get("delivered") or 0),
            "failed": int(state.get("failed") or 0),
            "lastSuccessAt": _iso_ms(state.get("lastSuccessAt")),
            "failing": failing,
        }
        return {**public(endpoint), "status": status}

    async def _get(self, endpoint_id: str) -> tuple[bytes, dict[str, Any]]:
        raw = await self.store.endpoint_raw(endpoint_id)
        if raw is None:
            raise NotFound(f"no webhook {endpoint_id!r}")
        return raw, orjson.loads(raw)

    async def list(self) -> list[dict[str, Any]]:
        return [await self._answer(e) for e in await self.store.endpoints()]

    async def get(self, endpoint_id: str) -> dict[str, Any]:
        return await self._answer((await self._get(endpoint_id))[1])

    async def attempts(self, endpoint_id: str, limit: int = 50) -> dict[str, Any]:
        await self._get(endpoint_id)
        if not 1 <= limit <= MAX_ATTEMPTS_SHOWN:
            raise refuse("limit", f"must be 1 to {MAX_ATTEMPTS_SHOWN}")
        found = await self.store.attempts(endpoint_id, limit)
        return {"webhookId": endpoint_id, "attempts": found, "count": len(found)}

    # --- changing --------------------------------------------------------------------
    async def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        endpoint, secret = parse_endpoint(body, now=time.time())
        await check_target(endpoint["url"], allow_private=self.limits.allow_private)
        assert secret is not None
        endpoint["sealedSecret"] = self._cipher().encrypt(secret)
        start = await self._log.end()
        if not await self.store.create(endpoint, start):
            raise EndpointExists(f"a webhook with id {endpoint['id']!r} exists")
        return {**await self._answer(endpoint), "secret": secret}

    async def update(self, endpoint_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        _raw, current = await self._get(endpoint_id)
        changes = {k: v for k, v in body.items() if k not in ("status", "secretHint")}
        endpoint, secret = parse_endpoint(changes, now=time.time(), current=current)
        if "url" in changes:
            await check_target(endpoint["url"], allow_private=self.limits.allow_private)
        if secret is not None:
            endpoint["sealedSecret"] = self._cipher().encrypt(secret)
        reenabled = endpoint["enabled"] and not current.get("enabled", True)
        if reenabled:
            endpoint.pop("disabledReason", None)
            endpoint.pop("disabledAt", None)
        if not await self.store.replace(endpoint, reset=reenabled):
            raise NotFound(f"no webhook {endpoint_id!r}")
        return await self._answer(endpoint)

    async def delete(self, endpoint_id: str) -> None:
        if not await self.store.delete(endpoint_id):
            raise NotFound(f"no webhook {endpoint_id!r}")

    async def skip(self, endpoint_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Give up on the event a disabled endpoint is held on (``{offset}`` or ``{eventId}``
        of that very event): its committed offset moves past it, so re-enabling delivers
        from the next event. Naming the event makes a stale or mistaken call harmless, and
        the endpoint must be disabled so no delivery races the skip."""
        raw, endpoint = await self._get(endpoint_id)
        _one_of_event_or_offset(body)
        if endpoint.get("enabled", True):
            raise WebhookEnabled(
                f"webhook {endpoint_id!r} is enabled: disable it first (PATCH "
                '{"enabled": false}), skip, then enable it again'
            )
        state = await self.store.state(endpoint_id)
        committed = state.get("offset") or "0-0"
        held = await self._held(endpoint_id, state, committed)
        if held is None:
            raise NothingHeld(
                f"webhook {endpoint_id!r} is not held on any event: nothing failed after "
                f"its committed offset {committed}"
            )
        found = await self._log.between(held, held, 1)
        held_id = str(found[0].body.get("eventId") or held) if found else None
        asked = body.get("offset", body.get("eventId"))
        if asked not in (held, held_id):
            named = f"{held} ({held_id})" if held_id else held
            raise NotHeld(f"webhook {endpoint_id!r} is held on {named}, not on {asked!r}")
        record = orjson.dumps(
            {
                "eventId": held_id,
                "offset": held,
                "attempt": 0,
                "status": None,
                "latencyMs": 0,
                "error": "skipped on request: never delivered",
                "at": utc_now_iso(),
                "manual": True,
                "skipped": True,
            }
        )
        outcome = await self.store.skip(endpoint_id, raw, committed, held, record)
        if outcome != "skipped":
            raise WebhookChanged(
                f"webhook {endpoint_id!r} changed while skipping ({outcome}); nothing was "
                "skipped: look again"
            )
        return {
            "webhookId": endpoint_id,
            "skipped": {"eventId": held_id, "offset": held},
            "attempt": orjson.loads(record),
        }

    async def _held(self, endpoint_id: str, state: Mapping[str, str], committed: str) -> str | None:
        """The offset of the event the ordered queue is stuck on: the stored retry, else the
        newest attempt of the queue (not a manual one) after the committed offset, which is
        how a 410 on a first try leaves it."""
        after = offset_key(committed)
        retry = state.get("retryOffset")
        if retry and is_offset(retry) and offset_key(retry) > after:
            return retry
        for attempt in await self.store.attempts(endpoint_id, 1):
            offset = str(attempt.get("offset") or "")
            if not attempt.get("manual") and is_offset(offset) and offset_key(offset) > after:
                return offset
        return None

    # --- sending now -----------------------------------------------------------------
    async def resend(self, endpoint_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Send one event of the log again now: ``{eventId}`` or ``{offset}``."""
        _raw, endpoint = await self._get(endpoint_id)
        _one_of_event_or_offset(body)
        if "offset" in body:
            offset = body["offset"]
            found = await self._log.between(offset, offset, 1)
            if not found:
                raise NotFound(f"offset: the log holds no event at {offset}")
            entry = found[0]
        else:
            entry = await self._find(body["eventId"])
        return await self._send_now(endpoint, entry, manual=True)

    async def test(self, endpoint_id: str) -> dict[str, Any]:
        """Send a ``webhook:test`` event (not in the log) to check the endpoint."""
        _raw, endpoint = await self._get(endpoint_id)
        eid = f"webhook.test:{uuid.uuid4().hex[:12]}@webhook:{endpoint_id}"
        event = {
            "type": "webhook:test",
            "eventId": eid,
            "streamId": f"webhook:{endpoint_id}",
            "platform": "herald",
            "webhookId": endpoint_id,
            "detectedAt": utc_now_iso(),
            "text": "a test delivery from herald",
        }
        data = orjson.dumps(event)
        entry = Entry("0-0", (0, 0), "webhook:test", event["streamId"], data, data.decode())
        return await self._send_now(endpoint, entry, manual=True, test=True)

    async def _send_now(
        self, endpoint: Mapping[str, Any], entry: Entry, **extra: Any
    ) -> dict[str, Any]:
        key = signing.secret_key(self._cipher().decrypt(str(endpoint["sealedSecret"])))
        body = entry.body
        msg_id = str(body.get("eventId") or entry.offset)
        fmt = str(endpoint.get("format") or "standard")
        async with new_client(self.limits) as client:
            result = await send(
                client,
                self.limits,
                url=str(endpoint["url"]),
                key=key,
                fmt=fmt,
                msg_id=msg_id,
                data=entry.data,
                event=body if fmt != "standard" else None,
            )
        record = attempt_record(msg_id, entry.offset, 1, result, **extra)
        await self.store.record(str(endpoint["id"]), record)
        attempt: dict[str, Any] = orjson.loads(record)
        return {"webhookId": endpoint["id"], "ok": result.ok, "attempt": attempt}

    async def _find(self, event_id: str) -> Entry:
        """The log entry of ``event_id``: from its stream's history, else the recent log."""
        stream_id = event_id.rpartition("@")[2]
        if stream_id:
            for body in await self._log.history(stream_id, HISTORY_LIMIT):
                if body.get("eventId") == event_id and is_offset(body.get("offset")):
                    offset = str(body["offset"])
                    held = await self._log.between(offset, offset, 1)
                    if held:
                        return held[0]
        for entry in reversed(await self._log.newest(SCAN_LIMIT)):
            if entry.body.get("eventId") == event_id:
                return entry
        raise NotFound(f"eventId: no event {event_id[:128]!r} in the log herald still holds")


def _one_of_event_or_offset(body: Mapping[str, Any]) -> None:
    """``{eventId}`` or ``{offset}``, exactly one, each well formed."""
    unknown = sorted(set(body) - {"eventId", "offset"})
    if unknown or ("eventId" in body) == ("offset" in body):
        raise refuse("eventId", "give exactly one of eventId and offset")
    if "offset" in body and not is_offset(body["offset"]):
        raise refuse("offset", "must be a log offset such as 1700000000000-0")
    eid = body.get("eventId")
    if "eventId" in body and (not isinstance(eid, str) or not eid or len(eid) > 512):
        raise refuse("eventId", "must be an event's eventId")


def _iso_ms(value: str | None) -> str | None:
    if not value:
        return None
    from herald.webhooks.model import iso

    return iso(int(value) / 1000)


def check_limit(raw: str | None) -> int:
    if raw is None:
        return 50
    if not raw.isdigit():
        raise ValidationError("limit: must be a whole number")
    return int(raw)
