"""Encryption at rest for X session cookies.

A cookie is a password: whoever holds it acts as the account. herald therefore stores it
only as a Fernet token (AES-128-CBC + HMAC-SHA256) and decrypts it in memory right before a
request. The key comes from ``HERALD_SECRET_KEY`` (a Fernet key, or any passphrase, which is
stretched with HKDF-SHA256), or else from ``secret.key`` in the data directory, generated
on first use with 0600 permissions. Losing or changing the key makes stored cookies
unreadable; they must then be added again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from herald.config import Settings
from herald.errors import ConfigError

log = logging.getLogger(__name__)

KEY_FILE = "secret.key"
_PASSPHRASE_SALT = b"herald secret key v1"


def _hkdf(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_PASSPHRASE_SALT, info=info).derive(
        material
    )


def _as_fernet_key(secret: str) -> bytes:
    """A Fernet key as given, or one derived from a passphrase of any length."""
    raw = secret.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    return base64.urlsafe_b64encode(_hkdf(raw, b"herald fernet key"))


def _read_or_create_key_file(path: Path) -> bytes:
    """Read ``path``, or create it with a fresh key, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes().strip()
        if not key:
            raise ConfigError(
                f"the key file {path} is empty; delete it or set HERALD_SECRET_KEY"
            ) from None
        return key
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    os.chmod(path, 0o600)  # the umask cannot widen it, but be explicit
    log.info("generated a new secret key at %s", path)
    return key


class Cipher:
    """Encrypts and decrypts secrets, and fingerprints them for stable, non-reversible ids."""

    __slots__ = ("_fernet", "_mac_key")

    def __init__(self, key: bytes | str) -> None:
        fernet_key = _as_fernet_key(key.decode() if isinstance(key, bytes) else key)
        self._fernet = Fernet(fernet_key)
        self._mac_key = _hkdf(fernet_key, b"herald fingerprint key")

    @classmethod
    def from_settings(cls, settings: Settings) -> Cipher:
        """The key from HERALD_SECRET_KEY, else the data dir's ``secret.key`` (made if missing)."""
        if settings.secret_key:
            return cls(settings.secret_key)
        return cls(_read_or_create_key_file(Path(settings.data_dir) / KEY_FILE))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str | bytes) -> str:
        data = token.encode() if isinstance(token, str) else token
        try:
            return self._fernet.decrypt(data).decode()
        except InvalidToken as exc:
            raise ConfigError(
                "a stored secret cannot be decrypted: HERALD_SECRET_KEY or secret.key changed "
                "since it was stored; add the account again"
            ) from exc

    def fingerprint(self, value: str, length: int = 16) -> str:
        """A keyed hash of ``value``, ``length`` hex chars: stable, and not reversible."""
        digest = hmac.new(self._mac_key, value.encode(), hashlib.sha256).hexdigest()
        return digest[:length]

    def __repr__(self) -> str:
        return "Cipher(key=<hidden>)"
