"""Mastodon access tokens, stored encrypted like X cookies.

A token is a password for its account. herald keeps it only as a Fernet token (see
:mod:`herald.store.secrets`) under an id that is a keyed hash of the token, so the same token
given twice lands on the same id and the id reveals nothing. The stream keeps the id
(``accountId``); the token leaves this module only through :meth:`MastodonTokens.token`.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from herald import redaction
from herald.errors import AccountAuthFailed, ConfigError, ValidationError
from herald.store.keys import Keys
from herald.store.secrets import Cipher

MAX_TOKEN = 4096  # as for X cookies: what the API's authToken schema allows


def token_key(keys: Keys, token_id: str) -> str:
    """hash: ``token`` (encrypted), ``addedAt`` of one Mastodon access token."""
    return f"{keys.prefix}:mastodon:token:{token_id}"


def check_token(value: object, field: str = "authToken") -> str:
    """One line of printable ASCII, bounded: what a Bearer header can carry."""
    rule = f"a Mastodon access token (one line of printable ASCII, at most {MAX_TOKEN} characters)"
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field}: required, {rule}")
    token = value.strip()
    if len(token) > MAX_TOKEN or not all(" " <= c <= "~" for c in token):
        raise ValidationError(f"{field}: must be {rule}")
    return token


class MastodonTokens:
    def __init__(self, redis: aioredis.Redis, keys: Keys, cipher: Cipher) -> None:
        self._redis = redis
        self._keys = keys
        self._cipher = cipher
        self._plain: dict[str, str] = {}

    def token_id(self, token: str) -> str:
        return "m" + self._cipher.fingerprint(f"mastodon:token:{token}", 15)

    async def add(self, token: str) -> str:
        """Store ``token`` (encrypted) and return its id."""
        token = check_token(token)
        redaction.register(token)
        token_id = self.token_id(token)
        key = token_key(self._keys, token_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, "token", self._cipher.encrypt(token))
            pipe.hsetnx(key, "addedAt", repr(time.time()))
            await pipe.execute()
        self._plain[token_id] = token
        return token_id

    async def token(self, token_id: str) -> str:
        """The decrypted token: the only way a token leaves the store."""
        known = self._plain.get(token_id)
        if known is not None:
            return known
        sealed = await self._redis.hget(token_key(self._keys, token_id), "token")
        if sealed is None:
            raise AccountAuthFailed(
                f"the Mastodon token {token_id} of this stream is no longer stored; "
                "update the stream with a fresh authToken"
            )
        try:
            token = self._cipher.decrypt(sealed)
        except ConfigError as exc:
            raise AccountAuthFailed(
                f"the Mastodon token {token_id} cannot be decrypted (the secret key changed); "
                "update the stream with a fresh authToken"
            ) from exc
        redaction.register(token)
        self._plain[token_id] = token
        return token

    async def remove(self, token_id: str) -> bool:
        self._plain.pop(token_id, None)
        return bool(await self._redis.delete(token_key(self._keys, token_id)))

    def __repr__(self) -> str:
        return f"MastodonTokens(prefix={self._keys.prefix!r})"
