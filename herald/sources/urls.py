"""The URL rule shared by the stream types whose target is a URL (RSS feeds, ``ws:feed``)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from herald.errors import ValidationError

MAX_URL = 2048
"""Characters in a target URL: what browsers and most servers accept."""


def target_url(url: str, *, schemes: tuple[str, ...], scheme_rule: str) -> str:
    """``url`` (stripped, non-empty) checked and normalised: at most :data:`MAX_URL`
    characters, one of ``schemes``, a host, no credentials (the URL is shown in every stream
    listing and event); scheme and host lower-cased and a fragment dropped, so one feed is
    one target however it was typed. ``scheme_rule`` says what is wanted ("an http or https
    URL")."""
    if len(url) > MAX_URL:
        raise ValidationError(f"target: {len(url)} characters is too long (at most {MAX_URL})")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise ValidationError("target: a URL may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"target: not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise ValidationError(f"target: must be {scheme_rule} (got {parts.scheme or 'no'} scheme)")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError(
            "target: a feed URL may not carry credentials (user:password@); "
            "herald shows the URL in listings and events"
        )
    host = (parts.hostname or "").lower()
    if not host:
        raise ValidationError("target: the URL has no host")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
