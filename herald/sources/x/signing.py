"""Which X hosts get the ``x-client-transaction-id`` signature (``HERALD_X_TRANSACTION_ID``)."""

from __future__ import annotations

import logging

import httpx

from herald.config import Settings

log = logging.getLogger(__name__)

X_HOSTS = ("x.com", "twitter.com")
_UNSIGNED_LOGGED: set[str] = set()


def signs_requests(settings: Settings) -> bool:
    """Whether requests carry ``x-client-transaction-id``. ``HERALD_X_TRANSACTION_ID=auto``
    (the default) signs for x.com and twitter.com only: the signature is derived from
    x.com's own web app, which a stand-in or a self-hosted double does not serve, and only
    X checks it. ``true`` or ``false`` decide for every host."""
    mode = settings.x_transaction_id
    if mode != "auto":
        return bool(mode)
    host = (httpx.URL(settings.x_base_url).host or "").lower()
    if any(host == known or host.endswith(f".{known}") for known in X_HOSTS):
        return True
    if host not in _UNSIGNED_LOGGED:
        _UNSIGNED_LOGGED.add(host)
        log.info(
            "X requests to %s are not signed (x-client-transaction-id): it is not x.com, so "
            "there is no web app to derive the signature from; set HERALD_X_TRANSACTION_ID="
            "true to sign anyway",
            host or settings.x_base_url,
        )
    return False
