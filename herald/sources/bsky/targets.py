"""Bluesky targets: an account as a DID (``did:plc:…``, ``did:web:…``) or a domain handle
(``alice.bsky.social``, a leading ``@`` dropped), and the text of a search."""

from __future__ import annotations

import re

from herald.errors import ValidationError

MAX_QUERY = 500
# atproto's handle syntax: labels of letters, digits and hyphens, at least two, the last
# (the TLD) starting with a letter; at most 253 characters.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HANDLE_RE = re.compile(rf"^(?=.{{3,253}}$)(?:{_LABEL}\.)+[a-z](?:[a-z0-9-]{{0,61}}[a-z0-9])?$")
PLC_RE = re.compile(r"^did:plc:[a-z2-7]{24}$")
WEB_RE = re.compile(rf"^did:web:(?=.{{3,253}}$)(?:{_LABEL}\.)+{_LABEL}(?:%3a[0-9]{{1,5}})?$")
_WS = r"[ \t\n\r]{0,4}"
_P_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,60}[A-Za-z0-9])?"
_P_TLD = r"[A-Za-z](?:[A-Za-z0-9-]{0,60}[A-Za-z0-9])?"
ACTOR_PATTERN = (
    rf"^{_WS}(?:did:plc:[a-z2-7]{{24}}|did:web:(?:{_P_LABEL}\.){{1,3}}{_P_LABEL}"
    rf"|@?(?:{_P_LABEL}\.){{1,3}}{_P_TLD}){_WS}$"
)
"""What the OpenAPI document promises: a subset of what :func:`actor` accepts, kept plain
for JSON schema's regex dialect."""
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]")


def actor(value: object, field: str = "target") -> str:
    """A DID as given (``did:web`` lower-cased), or a handle lower-cased without its ``@``."""
    what = "a Bluesky account: a DID (did:plc:…, did:web:…) or a handle such as alice.bsky.social"
    if not isinstance(value, str):
        raise ValidationError(f"{field}: must be a string ({what})")
    text = value.strip(" \t\n\r")
    if text.startswith("did:"):
        if PLC_RE.match(text):
            return text
        lowered = text.lower()
        if text.startswith("did:web:") and WEB_RE.match(lowered):
            return lowered
        raise ValidationError(f"{field}: {value!r} is not a did:plc or did:web identifier")
    handle = text.removeprefix("@").lower()
    if not HANDLE_RE.match(handle):
        raise ValidationError(f"{field}: {value!r} is not {what}")
    return handle


def is_did(target: str) -> bool:
    return target.startswith("did:")


def query(value: object, field: str = "target") -> str:
    """What a search stream is called and, without ``options.keywords``, what it matches:
    one line of printable text, 1-500 characters once the blanks around it are dropped."""
    rule = f"one line of printable text, 1-{MAX_QUERY} characters"
    if not isinstance(value, str):
        raise ValidationError(f"{field}: a search must be a string ({rule})")
    text = value.strip(" \t\n\r")
    if not text:
        raise ValidationError(f"{field}: the search is empty ({rule})")
    if _CONTROL.search(text):
        raise ValidationError(f"{field}: the search holds a line break or a control character")
    if len(text) > MAX_QUERY:
        raise ValidationError(f"{field}: the search has {len(text)} characters ({rule})")
    return text


_C = r"\u0000-\u001f\u007f-\u009f\u2028\u2029"
QUERY_PATTERN = rf"^{_WS}[^{_C} ](?:[^{_C}]{{0,{MAX_QUERY - 2}}}[^{_C} ])?{_WS}$"
"""Exactly what :func:`query` accepts (lone surrogates aside), for the OpenAPI document."""
