"""X accounts: session cookies stored encrypted in Redis, their health, and the pool choice.

An account is one X session cookie. Its id is a keyed hash of the cookie's ``auth_token``,
so adding the same token twice (a stream's ``authToken``, ``herald accounts add``, the env
cookie) always lands on the same account, and the id reveals nothing about the token.
The cookie leaves this module only through :meth:`AccountStore.cookie`.

A change of health (ok, rate_limited, auth_failed, locked, suspended, write_paused) is an
``account:health`` event ``{accountId, state, previous, reason}`` in the global log, with
the stream id ``account:{accountId}``; see :meth:`AccountStore.set_health`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from redis.asyncio import Redis

from herald import redaction
from herald.engine import validation
from herald.errors import AccountAuthFailed, ConfigError, RateLimited, ValidationError
from herald.events import Event, EventType
from herald.sources.x.ratelimit import RateLimitStore, RedisRateLimits
from herald.store.accounts import AccountRecords, AccountRecordStore, health_stream
from herald.store.keys import Keys
from herald.store.secrets import Cipher

Health = Literal["ok", "rate_limited", "auth_failed", "locked", "suspended", "write_paused"]
HEALTH_STATES: tuple[str, ...] = get_args(Health)
USABLE: frozenset[str] = frozenset({"ok", "rate_limited", "write_paused"})
"""``write_paused``: X answered a write with 226 (looks automated); reads go on."""
ENV_LABEL = "env"
_PLAIN_SIZE = 1024
_CAS_ATTEMPTS = 8  # another worker's transition in between: read again and retry
NEW_COOKIE = "a new cookie was added"


class AccountNotFound(AccountAuthFailed):
    code = "account_not_found"
    status = 404


class NoUsableAccount(AccountAuthFailed):
    """No account is healthy: every one is auth_failed, locked or suspended, or none exists.

    A 503, not the 502 of an upstream failure: X did not fail, herald has no account to act
    as until one is added or recovers, and the detail says how.
    """

    code = "no_x_account"
    status = 503


def parse_cookie(cookie: str) -> dict[str, str]:
    """``auth_token=..; ct0=..`` or a bare auth_token value, as a dict of cookie names."""
    text = cookie.strip()
    if "=" not in text:
        return {"auth_token": text} if text else {}
    pairs = (part.split("=", 1) for part in text.split(";") if "=" in part)
    return {name.strip(): value.strip().strip('"') for name, value in pairs if value.strip()}


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, repr=False)
class Account:
    """An account's public facts; it never holds the cookie."""

    id: str
    label: str | None
    health: Health = "ok"
    health_reason: str = ""
    added_at: float = 0.0
    last_used: float | None = None
    health_seq: int = 0
    """How many health transitions were recorded (the compare-and-set's version)."""

    @property
    def usable(self) -> bool:
        return self.health in USABLE

    def to_public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "health": self.health,
            "healthReason": self.health_reason,
            "addedAt": _iso(self.added_at),
            "lastUsed": _iso(self.last_used),
        }

    def __repr__(self) -> str:
        return f"Account(id={self.id!r}, label={self.label!r}, health={self.health!r})"


def health_event(account: Account, health: Health, reason: str) -> Event:
    """The ``account:health`` event of moving ``account`` to ``health``: its transition
    number is the object id, so each transition has its own eventId. No cookie in it."""
    payload: dict[str, Any] = {
        "accountId": account.id,
        "state": health,
        "previous": account.health,
        "reason": reason,
    }
    if account.label:
        payload["label"] = account.label
    return Event(
        EventType.ACCOUNT_HEALTH,
        health_stream(account.id),
        account.id,
        str(account.health_seq + 1),
        payload,
        platform="x",
    )


def _text(value: object) -> str:
    """Redis answers bytes, or str on a client with decode_responses."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(raw: Mapping[Any, Any], account_id: str) -> Account:
    text = {_text(k): _text(v) for k, v in raw.items()}
    text.pop("cookie", None)
    health = text.get("health", "ok")
    return Account(
        id=account_id,
        label=text.get("label") or None,
        health=health if health in HEALTH_STATES else "ok",  # type: ignore[arg-type]
        health_reason=text.get("healthReason", ""),
        added_at=float(text.get("addedAt", 0) or 0),
        last_used=float(text["lastUsed"]) if text.get("lastUsed") else None,
        health_seq=int(text.get("healthSeq", 0) or 0),
    )


class AccountStore:
    """X accounts kept in the store's account records (:mod:`herald.store.accounts`)."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        cipher: Cipher,
        limits: RateLimitStore | None = None,
        *,
        log_maxlen: int = 100_000,
        ttl: int = 7 * 24 * 3600,
    ) -> None:
        self._records: AccountRecordStore = AccountRecords(
            redis, keys, log_maxlen=log_maxlen, ttl=ttl
        )
        self._prefix = keys.prefix
        self._cipher = cipher
        self.limits: RateLimitStore = limits or RedisRateLimits(redis, keys)
        self._env_ids: dict[str, str] = {}
        # The sealed cookie of each account as last read, and what it decrypts to: a poll
        # reads the account list anyway, so its cookie then costs no round trip or decryption.
        self._sealed: dict[str, bytes | str] = {}
        self._plain: dict[bytes | str, str] = {}

    def account_id(self, cookie: str) -> str:
        """The deterministic id of a cookie: a keyed hash of its auth_token."""
        token = parse_cookie(cookie).get("auth_token")
        if not token:
            raise ValidationError("authToken: must be a non-empty X auth_token cookie value")
        return self._cipher.fingerprint(f"x:auth_token:{token}")

    async def add(self, cookie: str, label: str | None = None) -> Account:
        """Store (or refresh) the account for ``cookie``; the same auth_token, the same id.

        A cookie HTTP cannot carry (a newline, non-ASCII, over the bound) is refused here
        too, whichever door it came through, so it never reaches the shared pool.
        """
        cookie = validation.cookie(cookie, field="cookie")
        redaction.register(cookie)
        account_id = self.account_id(cookie)
        sealed = self._cipher.encrypt(cookie.strip())
        previous = await self._records.sealed(account_id)
        changed = previous is None or self._decrypt_or_none(previous) != cookie.strip()
        if changed and previous is not None:  # back to ok is a transition like any other
            await self.set_health(account_id, "ok", NEW_COOKIE)
        # a new cookie deserves a fresh verdict
        await self._records.put(account_id, sealed, label, fresh=changed, now=time.time())
        return await self.get(account_id)

    async def env_account(self, cookie: str | None) -> Account | None:
        """The account of HERALD_SESSION_COOKIE, registered as "env" on first use."""
        if not cookie or not cookie.strip():
            return None
        known = self._env_ids.get(cookie)
        if known is not None:
            try:
                return await self.get(known)
            except AccountNotFound:
                pass  # removed meanwhile: register it again
        try:
            account = await self.add(cookie, label=ENV_LABEL)
        except ValidationError as exc:
            raise AccountAuthFailed(
                f"HERALD_SESSION_COOKIE {exc.detail.removeprefix('cookie: ')}"
            ) from None
        self._env_ids = {cookie: account.id}
        return account

    def env_id(self, cookie: str) -> str:
        """The id the env cookie's account has (or will have), without a round trip."""
        known = self._env_ids.get(cookie)
        return known if known is not None else self.account_id(cookie)

    async def get(self, account_id: str) -> Account:
        account = self._read(await self._records.get(account_id), account_id)
        if account is None:
            raise AccountNotFound(
                f"X account {account_id} does not exist (removed?); add it with "
                "`herald accounts add` or pass a fresh authToken"
            )
        return account

    def _read(self, raw: Mapping[Any, Any], account_id: str) -> Account | None:
        sealed = raw.get(b"cookie", raw.get("cookie"))
        if sealed is None:
            return None
        self._sealed[account_id] = sealed
        return _decode(raw, account_id)

    async def cookie(self, account_id: str) -> str:
        """The decrypted cookie: the only way a cookie leaves the store."""
        sealed = self._sealed.get(account_id)
        if sealed is None:
            sealed = await self._records.sealed(account_id)
        if sealed is None:
            await self.get(account_id)  # raises AccountNotFound
            raise AccountNotFound(f"X account {account_id} has no cookie")
        known = self._plain.get(sealed)
        if known is not None:
            return known
        try:
            plain = self._cipher.decrypt(sealed)
        except ConfigError as exc:
            raise AccountAuthFailed(
                f"the cookie of X account {account_id} cannot be decrypted (the secret key "
                "changed); add it again with `herald accounts add`"
            ) from exc
        if len(self._plain) >= _PLAIN_SIZE:
            self._plain.clear()
        self._plain[sealed] = plain
        redaction.register(plain)
        return plain

    async def list(self) -> list[Account]:
        """Every account, oldest first: two round trips however many there are."""
        accounts: list[Account] = []
        for account_id, raw in await self._records.all():  # ids whose hash is gone dropped
            account = self._read(raw, account_id)
            if account is not None:
                accounts.append(account)
        return accounts

    async def remove(self, account_id: str) -> bool:
        deleted = await self._records.remove(account_id)
        await self.limits.forget(account_id)
        self._env_ids = {c: i for c, i in self._env_ids.items() if i != account_id}
        self._sealed.pop(account_id, None)
        return bool(deleted)

    async def set_health(self, account_id: str, health: Health, reason: str = "") -> bool:
        """Record a verdict; True when it changed the account's state.

        A change is a transition: a compare-and-set in the store records it and appends its
        ``account:health`` event once, however many workers reach the same verdict at once.
        The same state again only updates the reason. A removed account is not resurrected
        by a late poll.
        """
        if health not in HEALTH_STATES:
            raise ValueError(f"unknown account health {health!r}")
        reason = redaction.scrub(reason)
        for _ in range(_CAS_ATTEMPTS):
            current = self._read(await self._records.get(account_id), account_id)
            if current is None:
                return False
            event = health_event(current, health, reason)
            verdict = await self._records.transition(
                account_id, current.health_seq, health, reason, event
            )
            if verdict is None or verdict.outcome == "same":
                return False
            if verdict.outcome == "moved":
                return True
        return False

    async def touch(self, account_id: str) -> None:
        """Mark the account used now; a removed account is not resurrected."""
        await self._records.touch(account_id, time.time())

    async def pick(
        self, endpoint: str, preferred: str | None = None, *, env_cookie: str | None = None
    ) -> Account:
        """The account to poll ``endpoint`` with: ``preferred`` if usable, else the least
        recently used healthy account with budget left.

        With ``env_cookie`` (HERALD_SESSION_COOKIE) and no ``preferred``, that cookie's
        account is preferred, and registered (again) when the list lacks it.

        Raises RateLimited (retry_after = the soonest reset) when healthy accounts exist but
        all their budgets are spent, and NoUsableAccount when none is healthy.
        """
        accounts = await self.list()
        if preferred is None and env_cookie and env_cookie.strip():
            preferred = self.env_id(env_cookie)
            if all(account.id != preferred for account in accounts):
                await self.env_account(env_cookie)
                accounts = await self.list()
        ordered = sorted(
            accounts, key=lambda a: (a.id != preferred, a.last_used or 0.0, a.added_at)
        )
        waits: list[float] = []
        for account in ordered:
            if not account.usable:
                continue
            wait = await self.limits.check(account.id, endpoint)
            if wait is None:
                return account
            waits.append(wait)
        if waits:
            retry_after = min(waits)
            raise RateLimited(
                f"X's rate limit for {endpoint} is spent on every usable account; polling "
                f"resumes after the next reset, in {retry_after:.0f}s",
                retry_after=retry_after,
            )
        raise NoUsableAccount(
            "no X session: pass authToken, set HERALD_SESSION_COOKIE, or run herald accounts add"
            if not accounts
            else "no healthy X account: every one is auth_failed, locked or suspended; "
            "add a fresh cookie with `herald accounts add`"
        )

    def _decrypt_or_none(self, sealed: bytes | str) -> str | None:
        try:
            return self._cipher.decrypt(sealed)
        except ConfigError:
            return None

    def __repr__(self) -> str:
        return f"AccountStore(prefix={self._prefix!r})"
