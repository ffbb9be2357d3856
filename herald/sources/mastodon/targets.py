"""Mastodon targets: ``user@instance``, ``tag@instance`` and ``instance``.

An instance is a hostname with an optional port (``mastodon.social``, ``127.0.0.1:8093``,
``[::1]:8093``). herald speaks https to every instance except a loopback one (``localhost``,
``127.0.0.0/8``, ``::1``), which it speaks to over plain http, so a stand-in or a development
server on the same machine works without certificates. A target never carries a scheme.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from herald.errors import ValidationError

MAX_TARGET = 400
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_USER = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]{0,62}[a-z0-9_])?$")
_TAG = re.compile(r"^[^\W](?:[\w·]{0,99})$", re.UNICODE)
_BLANKS = " \t\n\r"

# What the OpenAPI document promises: a subset of what the validators accept (any string
# matching a pattern is accepted), kept plain for JSON schema's regex dialect.
_WS = r"[ \t\n\r]{0,4}"
_P_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_P_PORT = (
    r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}"
    r"|[1-9][0-9]{0,3}))?"
)
_P_HOST = rf"{_P_LABEL}(?:\.{_P_LABEL}){{0,3}}{_P_PORT}"
_P_USER = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?"
INSTANCE_PATTERN = rf"^{_WS}{_P_HOST}{_WS}$"
ACCOUNT_PATTERN = rf"^{_WS}@?{_P_USER}@{_P_HOST}{_WS}$"
TAG_PATTERN = rf"^{_WS}#?[A-Za-z0-9_]{{1,100}}@{_P_HOST}{_WS}$"
OWN_ACCOUNT_PATTERN = rf"^{_WS}(?:@?{_P_USER}@)?{_P_HOST}{_WS}$"


@dataclass(frozen=True, slots=True)
class Instance:
    """One Mastodon server: where it is and how herald speaks to it."""

    host: str
    """Lower-case hostname or IP (IPv6 without brackets)."""
    port: int | None = None

    @property
    def loopback(self) -> bool:
        if self.host == "localhost" or self.host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port is not None else host

    @property
    def base_url(self) -> str:
        return f"{'http' if self.loopback else 'https'}://{self.netloc}"

    def __str__(self) -> str:
        return self.netloc


def _fail(field: str, value: object, rule: str) -> ValidationError:
    return ValidationError(f"{field}: {value!r} is not {rule}")


def parse_instance(text: str, *, field: str = "target") -> Instance:
    """``host[:port]`` (IPv6 in brackets) as an :class:`Instance`, or a ValidationError."""
    rule = "a Mastodon instance (hostname[:port], no scheme or path)"
    raw = text.strip(_BLANKS).lower().rstrip(".")
    if not raw or "/" in raw or "@" in raw:
        raise _fail(field, text, rule)
    port: int | None = None
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise _fail(field, text, rule)
        port_text = rest[1:] if rest else None
        try:
            if not ipaddress.ip_address(host).version == 6:
                raise ValueError(host)
        except ValueError:
            raise _fail(field, text, rule) from None
    else:
        host, _, port_text = raw.partition(":") if raw.count(":") == 1 else (raw, "", "")
        if raw.count(":") > 1:
            raise _fail(field, text, f"{rule}; write an IPv6 address in brackets")
        port_text = port_text or None
        if not _HOST.match(host):
            raise _fail(field, text, rule)
    if port_text is not None:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise _fail(field, text, f"{rule}: the port must be 1-65535")
        port = int(port_text)
    return Instance(host, port)


def _split(value: object, field: str, what: str) -> tuple[str, Instance]:
    if not isinstance(value, str):
        raise ValidationError(f"{field}: must be a string ({what})")
    if len(value) > MAX_TARGET:
        raise ValidationError(f"{field}: at most {MAX_TARGET} characters ({what})")
    text = value.strip(_BLANKS)
    name, sep, host = text.rpartition("@")
    if not sep or not name:
        raise ValidationError(f"{field}: {value!r} is not {what}")
    return name, parse_instance(host, field=field)


def account(value: object, field: str = "target") -> str:
    """``user@instance`` (a leading ``@`` is dropped), normalised to lower case."""
    what = "a Mastodon account as user@instance, e.g. Gargron@mastodon.social"
    user, instance = _split(value, field, what)
    user = user.removeprefix("@").lower()
    if not _USER.match(user):
        raise ValidationError(f"{field}: {value!r} is not {what}")
    return f"{user}@{instance}"


def hashtag(value: object, field: str = "target") -> str:
    """``tag@instance`` (a leading ``#`` is dropped), normalised to lower case."""
    what = "a hashtag on a Mastodon instance as tag@instance, e.g. python@mastodon.social"
    tag, instance = _split(value, field, what)
    tag = tag.removeprefix("#").lower()
    if not _TAG.match(tag):
        raise ValidationError(f"{field}: {value!r} is not {what}")
    return f"{tag}@{instance}"


def instance(value: object, field: str = "target") -> str:
    """``instance``: a hostname with an optional port."""
    if not isinstance(value, str):
        raise ValidationError(f"{field}: must be a string (a Mastodon instance)")
    if len(value) > MAX_TARGET:
        raise ValidationError(f"{field}: at most {MAX_TARGET} characters")
    return str(parse_instance(value, field=field))


def account_or_instance(value: object, field: str = "target") -> str:
    """For mentions: the token's account as ``user@instance``, or just its ``instance``."""
    if isinstance(value, str) and "@" in value.strip(_BLANKS).lstrip("@"):
        return account(value, field)
    return instance(value, field)


def split_target(target: str) -> tuple[str | None, Instance]:
    """A stored (already normalised) target as (name or None, instance)."""
    name, sep, host = target.rpartition("@")
    return (name if sep else None), parse_instance(host)
