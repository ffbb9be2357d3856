"""A small synchronous REST client for the CLI: one place that turns HTTP into one-line errors.

Every command talks to a running herald through :class:`HeraldClient`, so "server down",
"bad request" and "not found" read the same everywhere, and no secret the command was
given (the API token, a cookie) can leak into an error message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

import httpx

DEFAULT_URL = "http://127.0.0.1:3001"
DEFAULT_TIMEOUT = 30.0


class CliError(Exception):
    """A failure to show the user as one line; the command exits non-zero."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret that occurs in ``text`` (the server never echoes them, but be sure)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "refused" in text or not text:
            return "connection refused"
        if "name or service" in text or "nodename" in text or "resolution" in text:
            return "unknown host"
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return str(exc) or type(exc).__name__


def _detail(response: httpx.Response) -> str:
    """The server's ``detail`` (or another readable reason) from an error answer."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for field in ("detail", "error", "outcome"):
            value = body.get(field)
            if isinstance(value, str) and value:
                return value
    text = response.text.strip().splitlines()[0] if response.text.strip() else ""
    return text[:200] or f"HTTP {response.status_code} {response.reason_phrase}"


class HeraldClient:
    """Blocking calls to herald's REST API. Thread-safe, so bulk commands can fan out."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: Iterable[str] = (),
    ) -> None:
        self.url = url.rstrip("/")
        self._secrets = [s for s in (token, *secrets) if s]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def add_secret(self, secret: str) -> None:
        self._secrets.append(secret)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        ok: Iterable[int] = (),
    ) -> Any:
        """The decoded JSON answer; raises :class:`CliError` unless 2xx (or a status in ``ok``)."""
        try:
            response = self._http.request(method, path, json=json, params=params)
        except httpx.TransportError as exc:
            raise CliError(f"cannot reach herald at {self.url}: {_reason(exc)}") from None
        if response.is_success or response.status_code in set(ok):
            try:
                return response.json()
            except ValueError:
                raise CliError(
                    f"herald at {self.url} answered {method} {path} with something other than JSON"
                ) from None
        message = redact(_detail(response), self._secrets)
        if response.status_code == 401:
            message = f"{message} (pass --token or set HERALD_TOKEN)"
        raise CliError(message, status=response.status_code)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    @contextmanager
    def stream(self, path: str, params: dict[str, Any] | None = None) -> Iterator[httpx.Response]:
        """A streamed GET (an export): the open response, checked like :meth:`request`."""
        try:
            with self._http.stream("GET", path, params=params, timeout=None) as response:
                if not response.is_success:
                    response.read()
                    message = redact(_detail(response), self._secrets)
                    raise CliError(message, status=response.status_code)
                yield response
        except httpx.TransportError as exc:
            raise CliError(f"cannot reach herald at {self.url}: {_reason(exc)}") from None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
