"""Signatures per the Standard Webhooks spec (standardwebhooks.com).

Each request carries ``webhook-id`` (the event's ``eventId``, stable across retries, so a
receiver can drop a duplicate), ``webhook-timestamp`` (Unix seconds of this attempt) and
``webhook-signature: v1,<base64 HMAC-SHA256>`` of ``{id}.{timestamp}.{body}`` keyed with
the secret's bytes (``whsec_`` + base64). The spec's reference library
(``standardwebhooks.Webhook(secret).verify``) checks what this module signs; the tests
hold the two against each other. Signing is done here by hand because it is a few lines
and sits on the hot path of every delivery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 24
MIN_BYTES = 16
MAX_BYTES = 64


def new_secret() -> str:
    """A fresh ``whsec_`` secret: 24 random bytes, base64."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret; ValueError says what is wrong with it."""
    if not secret.startswith(PREFIX):
        raise ValueError(f"must start with {PREFIX!r} followed by base64")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"must be {PREFIX!r} followed by valid base64") from None
    if not MIN_BYTES <= len(key) <= MAX_BYTES:
        raise ValueError(f"must hold {MIN_BYTES} to {MAX_BYTES} bytes once decoded")
    return key


def hint(secret: str) -> str:
    """What answers show of a secret: its prefix and last four characters."""
    return f"{PREFIX}…{secret[-4:]}"


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(key: bytes, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, msg_id, timestamp, body),
    }
