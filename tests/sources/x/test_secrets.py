"""Cookie encryption at rest: key sources, the generated key file, and failure on a changed key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from herald.config import Settings
from herald.errors import ConfigError
from herald.store.secrets import KEY_FILE, Cipher

COOKIE = "auth_token=0123456789abcdef0123456789abcdef01234567; ct0=feedface"


def test_generated_key_file_is_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, secret_key=None)
    first = Cipher.from_settings(settings)
    key_file = data_dir / KEY_FILE
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    sealed = first.encrypt(COOKIE)
    assert Cipher.from_settings(settings).decrypt(sealed) == COOKIE


def test_roundtrip_hides_the_plaintext(tmp_path: Path) -> None:
    cipher = Cipher(Fernet.generate_key())
    sealed = cipher.encrypt(COOKIE)
    assert COOKIE not in sealed and "0123456789abcdef" not in sealed
    assert cipher.decrypt(sealed) == COOKIE


def test_passphrase_is_stretched_into_a_key() -> None:
    settings = Settings(secret_key="correct horse battery staple")
    sealed = Cipher.from_settings(settings).encrypt(COOKIE)
    assert Cipher("correct horse battery staple").decrypt(sealed) == COOKIE


def test_fernet_key_is_used_as_given() -> None:
    key = Fernet.generate_key()
    sealed = Cipher(key.decode()).encrypt(COOKIE)
    assert Fernet(key).decrypt(sealed.encode()).decode() == COOKIE


def test_changed_key_fails_with_a_clear_reason() -> None:
    sealed = Cipher("one passphrase").encrypt(COOKIE)
    with pytest.raises(ConfigError, match="changed") as caught:
        Cipher("another passphrase").decrypt(sealed)
    assert "0123456789abcdef" not in str(caught.value)


def test_fingerprint_is_stable_keyed_and_short() -> None:
    cipher = Cipher("k1")
    assert cipher.fingerprint("x") == Cipher("k1").fingerprint("x")
    assert cipher.fingerprint("x") != Cipher("k2").fingerprint("x")
    assert cipher.fingerprint("x") != cipher.fingerprint("y")
    assert len(cipher.fingerprint("x")) == 16


def test_repr_hides_the_key() -> None:
    key = Fernet.generate_key().decode()
    assert key not in repr(Cipher(key))
