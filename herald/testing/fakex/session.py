"""X's cookie session: ``auth_token`` identifies it, ``ct0`` guards against CSRF.

As on x.com, a request carrying ``auth_token`` but no ``ct0`` is handed a fresh ``ct0``
cookie; GraphQL calls then need an ``x-csrf-token`` header equal to it.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from herald.testing.fakex.templates import error_body

NOT_AUTHENTICATED = (32, "Could not authenticate you.")
CSRF_MISMATCH = (353, "This request requires a matching csrf cookie and header.")


def x_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def issue_ct0(request: Request, response: Response) -> None:
    """Give a session without ``ct0`` its csrf cookie (160 hex characters, as X's)."""
    if request.cookies.get("auth_token") and not request.cookies.get("ct0"):
        response.set_cookie("ct0", secrets.token_hex(80), path="/", samesite="lax")


def session_error(request: Request) -> Response | None:
    """401 without ``auth_token``; 403 when ``x-csrf-token`` does not equal ``ct0``."""
    if not request.cookies.get("auth_token"):
        return x_error(401, *NOT_AUTHENTICATED)
    ct0 = request.cookies.get("ct0")
    if not ct0 or request.headers.get("x-csrf-token") != ct0:
        response = x_error(403, *CSRF_MISMATCH)
        issue_ct0(request, response)
        return response
    return None
