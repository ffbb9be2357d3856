"""Who is calling: API keys and HS256 JWTs, shared by REST and every real-time transport.

Auth is on when ``HERALD_API_KEYS`` or ``HERALD_JWT_SECRET`` is set. A token is first
compared with every API key (constant time, all keys, so timing says nothing about which
one nearly matched), then, if a JWT secret is set, verified as a JWT.

What a caller may do (docs/auth.md): an API key is an administrator. A JWT's optional
``streams`` claim limits its bearer to those stream ids (absent: every stream); its optional
``admin: true`` claim adds what reaches beyond single streams: starting streams, stop-all
and the X accounts. ``admin`` with a ``streams`` list is refused as contradictory. Its
optional ``scope`` claim (OAuth style: space-separated, or a list) may hold ``commands``,
which lets a token act on X (post, like, ...) without being an administrator; a token
limited to some streams cannot hold it (refused as contradictory, like ``admin``).

Read-only: a key of ``HERALD_READ_API_KEYS``, or a JWT whose ``scope`` holds ``read-only``, may
read and subscribe (to every stream, or its ``streams``) and change nothing: every REST
call but a ``GET``, and every gRPC or real-time call that acts, is refused. ``read-only`` with
``admin`` or with ``commands`` is refused as contradictory.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

import jwt

from herald import redaction
from herald.config import Settings
from herald.errors import AuthError, Forbidden

_MAX_TOKEN = 8192
#: The JWT scope that lets a non-admin token send X write commands (docs/auth.md).
WRITE_SCOPE = "commands"
#: The JWT scope that makes a token read-only (docs/auth.md).
READ_SCOPE = "read-only"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. ``streams`` is ``None`` when it may see every stream."""

    subject: str
    streams: frozenset[str] | None = None
    admin: bool = False
    scopes: frozenset[str] = frozenset()
    read_only: bool = False
    """May read and subscribe, never change anything (a read key, or the ``read-only`` scope)."""

    @property
    def all_streams(self) -> bool:
        return self.streams is None

    @property
    def may_write(self) -> bool:
        """May send X write commands: an administrator, or a token with the write scope
        (never one limited to some streams, nor a read-only one)."""
        if self.read_only:
            return False
        return self.admin or (self.streams is None and WRITE_SCOPE in self.scopes)

    def may_access(self, stream_id: str) -> bool:
        return self.streams is None or stream_id in self.streams


ANONYMOUS = Principal("anonymous", admin=True)
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_reads_only(principal: Principal, method: str) -> None:
    """403 for a read-only caller on anything but a read (``method``: the HTTP verb, or
    ``POST`` for any call that acts)."""
    if principal.read_only and method.upper() not in READS:
        raise Forbidden(
            "this token is read-only: it may read and subscribe, not change anything "
            f"(use an API key, or a token without the {READ_SCOPE!r} scope)"
        )


class Authenticator:
    def __init__(
        self, api_keys: list[str], jwt_secret: str | None, read_keys: list[str] | None = None
    ) -> None:
        self._keys = [(k.encode(), False) for k in api_keys if k]
        self._keys += [(k.encode(), True) for k in read_keys or () if k]
        self._secret = jwt_secret or None
        redaction.register(jwt_secret, *api_keys, *(read_keys or ()))

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        return cls(list(settings.api_keys), settings.jwt_secret, list(settings.read_api_keys))

    @property
    def enabled(self) -> bool:
        return bool(self._keys) or self._secret is not None

    def authenticate(self, token: str | None) -> Principal:
        """The caller behind ``token``; raises :class:`AuthError` with the reason."""
        if not self.enabled:
            return ANONYMOUS
        if not token:
            raise AuthError("missing token: send Authorization: Bearer <token> or ?token=")
        if len(token) > _MAX_TOKEN:
            raise AuthError("token too long")
        raw = token.encode()
        matched, read_only = False, False
        for key, reads in self._keys:  # every key, whichever matches: timing says nothing
            hit = hmac.compare_digest(raw, key)
            matched |= hit
            read_only |= hit and reads
        if matched:
            digest = hashlib.sha256(raw).hexdigest()[:12]
            if read_only:
                return Principal("readkey:" + digest, read_only=True)
            return Principal("key:" + digest, admin=True)
        if self._secret is not None and token.count(".") == 2:
            return self._decode_jwt(token)
        raise AuthError("invalid token")

    def _decode_jwt(self, token: str) -> Principal:
        assert self._secret is not None
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={"require": ["sub", "exp"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthError("invalid token: sub must be a non-empty string")
        admin = claims.get("admin", False)
        if not isinstance(admin, bool):
            raise AuthError("invalid token: admin must be true or false")
        scopes = _scopes(claims.get("scope"))
        read_only = READ_SCOPE in scopes
        if read_only and (admin or WRITE_SCOPE in scopes):
            what = "admin" if admin else f"the {WRITE_SCOPE!r} scope"
            raise AuthError(f"invalid token: a {READ_SCOPE!r} token cannot also hold {what}")
        streams = claims.get("streams")
        if streams is None:
            return Principal(subject, admin=admin, scopes=scopes, read_only=read_only)
        if not isinstance(streams, list) or not all(isinstance(s, str) for s in streams):
            raise AuthError("invalid token: streams must be a list of stream ids")
        if admin:
            raise AuthError("invalid token: an admin token cannot be limited to some streams")
        if WRITE_SCOPE in scopes:
            raise AuthError(
                f"invalid token: a token limited to some streams cannot hold the "
                f"{WRITE_SCOPE!r} scope"
            )
        return Principal(subject, frozenset(streams), scopes=scopes, read_only=read_only)


def _scopes(claim: object) -> frozenset[str]:
    """The ``scope`` claim: a space-separated string (RFC 8693) or a list of strings."""
    if claim is None:
        return frozenset()
    if isinstance(claim, str):
        return frozenset(claim.split())
    if isinstance(claim, list) and all(isinstance(s, str) for s in claim):
        return frozenset(claim)
    raise AuthError("invalid token: scope must be a space-separated string or a list of strings")


def token_from_headers_and_query(
    headers: Mapping[str, str], query_params: Mapping[str, str]
) -> str | None:
    """``Authorization: Bearer <token>`` first, then ``?token=``."""
    value = headers.get("authorization") or headers.get("Authorization")
    if value:
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    token = query_params.get("token")
    return token or None
