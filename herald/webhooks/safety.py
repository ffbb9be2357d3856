"""Where a webhook may point: an http(s) URL whose host resolves to public addresses only.

A webhook makes herald send requests on a user's behalf, so an endpoint could otherwise
reach the machine's own services (``127.0.0.1:6379``), the cloud metadata address
(``169.254.169.254``) or the private network. Private, loopback, link-local, multicast,
reserved and unspecified addresses are refused unless ``HERALD_WEBHOOKS_ALLOW_PRIVATE=true``.

The check runs when an endpoint is stored AND before every send, and the send connects to
the very address that was checked (:class:`Target` pins it; TLS still verifies the host
name), so a name that re-resolves to a private address later (DNS rebinding) is refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from herald.errors import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL = 2048
SCHEMES = ("http", "https")
#: Seconds a host name may take to resolve.
RESOLVE_TIMEOUT = 5.0


class UnsafeTarget(Exception):
    """The endpoint's host resolves to an address herald must not send to (or not at all)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A URL resolved and checked: ``pinned`` has the checked address in place of the host
    name, ``host`` is the name for the ``Host`` header and TLS (SNI and verification)."""

    url: str
    pinned: str
    host: str
    hostname: str
    address: str
    port: int


def check_url(url: object, field: str = "url") -> str:
    """The URL if its shape is acceptable (scheme, host, no credentials, length); else a
    :class:`ValidationError` naming ``field``. The addresses are checked by :func:`resolve`."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationError(f"{field}: required, an http:// or https:// URL")
    url = url.strip()
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise ValidationError(f"{field}: must not contain spaces or control characters")
    if len(url) > MAX_URL:
        raise ValidationError(f"{field}: longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"{field}: not a valid URL ({exc})") from None
    if parts.scheme not in SCHEMES:
        raise ValidationError(f"{field}: the scheme must be http or https, not {parts.scheme!r}")
    if not parts.hostname:
        raise ValidationError(f"{field}: has no host")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(f"{field}: must not carry credentials (use the signing secret)")
    if port == 0:
        raise ValidationError(f"{field}: port 0 is not a port")
    if parts.fragment:
        raise ValidationError(f"{field}: must not have a #fragment")
    return url


def forbidden(address: IPAddress) -> str | None:
    """Why herald must not send to ``address`` (None: a public address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return forbidden(address.ipv4_mapped)
    for kind, flag in (
        ("a loopback", address.is_loopback),
        ("an unspecified", address.is_unspecified),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a private", address.is_private),
        ("a reserved", address.is_reserved),
    ):
        if flag:
            return f"{kind} address"
    if not address.is_global:
        return "a non-public address"
    return None


async def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise UnsafeTarget(
            f"the host {host!r} did not resolve within {RESOLVE_TIMEOUT:g}s"
        ) from None
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"the host {host!r} does not resolve ({exc.args[-1]})") from None
    found: list[IPAddress] = []
    for info in infos:
        try:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        except ValueError:
            continue
        if address not in found:
            found.append(address)
    if not found:
        raise UnsafeTarget(f"the host {host!r} has no address")
    return found


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host and check EVERY address it has (one private address is
    enough to refuse: a resolver may answer either). Raises :class:`UnsafeTarget`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _addresses(host, port)
    if not allow_private:
        for address in addresses:
            why = forbidden(address)
            if why is not None:
                raise UnsafeTarget(
                    f"the host {host!r} resolves to {why} ({address}); private targets need "
                    "HERALD_WEBHOOKS_ALLOW_PRIVATE=true"
                )
    chosen = addresses[0]
    literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return Target(url, pinned, host_header, host, str(chosen), port)


async def check_target(url: object, *, allow_private: bool, field: str = "url") -> str:
    """:func:`check_url` and :func:`resolve`, as a 400 naming ``field``."""
    checked = check_url(url, field)
    try:
        await resolve(checked, allow_private=allow_private)
    except UnsafeTarget as exc:
        raise ValidationError(f"{field}: {exc}") from None
    return checked
