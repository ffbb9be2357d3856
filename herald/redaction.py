"""No secret in any log line, at any level: session cookies, CSRF tokens, API keys, JWTs.

Third-party libraries log what they see: httpcore traces raw headers at DEBUG, h11 quotes
an illegal header value in its exception (``Illegal header value b'auth_token=...'``), and
a traceback repeats it. Rewriting one library's messages is not enough, so every log
record is scrubbed as it is made (:func:`install` sets the record factory), whichever
logger or handler it later reaches: the message with its arguments, the exception text
and the stack. Two nets: patterns for anything cookie-, header- or bearer-shaped, and the
exact values herald knows to be secret (:func:`register`: settings, stored cookies).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

MASK = "<redacted>"
_MIN_SECRET = 6  # shorter values would blank ordinary words

_HEADER_TUPLE = re.compile(
    r"""(\(b?['"](?:set-cookie|cookie|x-csrf-token|authorization)['"],\s*b?)"""
    r"""(?:'[^']*'|"[^"]*")""",
    re.IGNORECASE,
)
_COOKIE_PAIR = re.compile(
    r"""\b(auth_token|ct0|twid|kdt|att|_twitter_sess|auth_multi)=[^;\s'",)]+""", re.IGNORECASE
)
_HEADER_LINE = re.compile(r"""\b(cookie|set-cookie|x-csrf-token):\s*[^\r\n'"]+""", re.IGNORECASE)
_BEARER = re.compile(r"""\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}""", re.IGNORECASE)
_QUERY_TOKEN = re.compile(r"""([?&](?:token|access_token)=)[^&\s'"]+""", re.IGNORECASE)

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()


def register(*values: str | None) -> None:
    """Add values to blank wherever they appear (a cookie also registers its parts)."""
    global _secrets
    found: set[str] = set()
    for value in values:
        if not value:
            continue
        found.add(value.strip())
        for part in value.split(";"):
            found.add(part.strip())
            found.add(part.partition("=")[2].strip().strip('"'))
    fresh = {v for v in found if len(v) >= _MIN_SECRET}
    if fresh <= _secrets:
        return
    with _lock:
        _secrets = _secrets | fresh


def register_all(values: Iterable[str | None]) -> None:
    register(*values)


def scrub(text: str) -> str:
    """``text`` with every known secret and every secret-shaped value blanked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _HEADER_TUPLE.sub(rf"\1'{MASK}'", text)
    text = _COOKIE_PAIR.sub(rf"\1={MASK}", text)
    text = _HEADER_LINE.sub(rf"\1: {MASK}", text)
    text = _BEARER.sub(rf"\1 {MASK}", text)
    return _QUERY_TOKEN.sub(rf"\1{MASK}", text)


_formatter = logging.Formatter()


class RedactSecrets(logging.Filter):
    """Scrubs a record in place: message and arguments, exception text and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> None:
    """Only a record that holds a secret changes (formatters that read ``args`` keep them)."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the raw parts, scrubbed
        message = f"{record.msg} {record.args!r}"
    clean = scrub(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = _formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)
        # The text now stands for the exception; the live object would be re-formatted.
        record.exc_info = None
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


_installed: Callable[..., logging.LogRecord] | None = None


def install() -> None:
    """Scrub every log record of this process from now on (idempotent)."""
    global _installed
    with _lock:
        if _installed is not None:
            return
        inner = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = inner(*args, **kwargs)
            redact_record(record)
            return record

        _installed = factory
        logging.setLogRecordFactory(factory)
    root_filter = RedactSecrets()
    for handler in logging.getLogger().handlers:  # records handed in directly, too
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(root_filter)
