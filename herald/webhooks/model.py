"""Webhook endpoints as JSON: defaults, checks, and what answers show.

An endpoint is ``{id, url, secret, selector, format, enabled, description}``:

- ``url``: http or https, whose host resolves to public addresses only
  (:mod:`herald.webhooks.safety`);
- ``secret``: ``whsec_`` + base64 (16 to 64 bytes); generated when left out, stored
  sealed, shown in the answer to the create (or to a rotation) and never again: answers
  carry ``secretHint`` (``whsec_…abcd``);
- ``selector``: which events, in the subscription language (``streamIds``, ``types``,
  ``platforms``, ``sentiment``, ``channels``, ``filters``), checked by the same code as a
  Socket.IO or ``/ws`` subscription, so an unknown type or filter is a 400 here too;
- ``format``: ``standard`` (the event JSON as is), ``slack`` or ``discord``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from herald.delivery.subscription import Selector, parse_query
from herald.errors import HeraldError, ValidationError
from herald.webhooks import signing

FORMATS = ("standard", "slack", "discord")
FIELDS = frozenset({"id", "url", "secret", "selector", "format", "enabled", "description"})
SELECTOR_FIELDS = ("streamIds", "types", "platforms", "sentiment", "channels", "filters")
MAX_DESCRIPTION = 500
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
#: Stored fields that answers never show (the sealed secret).
PRIVATE = ("sealedSecret",)


class EndpointExists(HeraldError):
    code = "webhook_exists"
    status = 409


class SkipRefused(HeraldError):
    """A skip that would give up on the wrong event, or race a delivery: nothing skipped."""

    code = "skip_refused"
    status = 409


class WebhookEnabled(SkipRefused):
    code = "webhook_enabled"


class NothingHeld(SkipRefused):
    code = "nothing_held"


class NotHeld(SkipRefused):
    code = "not_held"


class WebhookChanged(SkipRefused):
    code = "webhook_changed"


def refuse(field: str, reason: str) -> ValidationError:
    return ValidationError(f"{field}: {reason}")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_selector(raw: Any) -> dict[str, Any]:
    """The selector as given (normalised to an object), once the subscription parser
    accepts it; ``since`` and ``replay`` are refused (an endpoint starts at its creation)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise refuse("selector", "must be an object {streamIds?, types?, platforms?, filters?}")
    unknown = sorted(set(raw) - set(SELECTOR_FIELDS))
    if unknown:
        raise refuse(
            "selector",
            f"{unknown[0][:64]} is not a known field; known: {', '.join(SELECTOR_FIELDS)}",
        )
    try:
        parse_query(raw)
    except ValidationError as exc:
        raise refuse("selector", exc.detail) from None
    return {k: v for k, v in raw.items() if v is not None}


def selector_of(endpoint: Mapping[str, Any]) -> Selector:
    return parse_query(endpoint.get("selector") or {}).selector


def check_secret(value: Any) -> str:
    if not isinstance(value, str):
        raise refuse("secret", "must be a string whsec_<base64>")
    try:
        signing.secret_key(value)
    except ValueError as exc:
        raise refuse("secret", str(exc)) from None
    return value


def parse_endpoint(
    body: Mapping[str, Any],
    *,
    now: float,
    current: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """A whole endpoint from a create body (or ``current`` with a PATCH's changes), and
    the new plaintext secret when one was set or generated (to seal and show once).

    The URL's addresses are checked by the caller (it needs the event loop)."""
    if not isinstance(body, Mapping):
        raise refuse("body", "must be a JSON object")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise refuse(unknown[0][:64], f"unknown field (allowed: {', '.join(sorted(FIELDS))})")
    base: dict[str, Any] = dict(current) if current is not None else {}
    if current is not None and "id" in body and body["id"] != current["id"]:
        raise refuse("id", "an endpoint's id cannot change")
    endpoint_id = base.get("id") or body.get("id") or uuid.uuid4().hex[:12]
    if not isinstance(endpoint_id, str) or not _ID.match(endpoint_id):
        raise refuse("id", "letters, digits, '_', '.', '-', at most 64, starting alphanumeric")
    if current is None and "url" not in body:
        raise refuse("url", "required, an http:// or https:// URL")
    out: dict[str, Any] = {**base, "id": endpoint_id}
    _settings(body, out, fresh=current is None)
    secret: str | None = None
    if "secret" in body and body["secret"] is not None:
        secret = check_secret(body["secret"])
    elif current is None:
        secret = signing.new_secret()
    if secret is not None:
        out["secretHint"] = signing.hint(secret)
    stamp = iso(now)
    out.setdefault("createdAt", stamp)
    out["updatedAt"] = stamp
    return out, secret


def _settings(body: Mapping[str, Any], out: dict[str, Any], *, fresh: bool) -> None:
    """Check and set url, selector, format, enabled and description (defaults if fresh)."""
    if "url" in body:
        from herald.webhooks.safety import check_url

        out["url"] = check_url(body["url"])
    if "selector" in body or fresh:
        out["selector"] = parse_selector(body.get("selector"))
    if "format" in body or fresh:
        fmt = body.get("format", "standard")
        if fmt not in FORMATS:
            raise refuse("format", f"must be one of {', '.join(FORMATS)}, not {str(fmt)[:32]!r}")
        out["format"] = fmt
    if "enabled" in body or fresh:
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise refuse("enabled", "must be true or false")
        out["enabled"] = enabled
    if "description" in body or fresh:
        description = body.get("description") or ""
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            raise refuse("description", f"must be a string of at most {MAX_DESCRIPTION} chars")
        out["description"] = description


def public(endpoint: Mapping[str, Any]) -> dict[str, Any]:
    """An endpoint as answers show it: no sealed secret."""
    return {k: v for k, v in endpoint.items() if k not in PRIVATE}
