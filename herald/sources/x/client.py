"""An X web GraphQL client that speaks with a session cookie, as x.com's own web app does.

Every failure leaves as a :mod:`herald.errors` source error whose detail a user can act on;
none carries the cookie, the CSRF token or a request's headers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http.cookiejar import Cookie, CookieJar
from types import TracebackType
from typing import Any, Protocol

import httpx
import orjson

from herald.config import Settings
from herald.errors import (
    AccountAuthFailed,
    FetchTimeout,
    SchemaError,
    UpstreamError,
    WriteOutcomeUnknown,
)
from herald.sources.x.accounts import parse_cookie
from herald.sources.x.answers import classify, raise_refusal
from herald.sources.x.operations import Operations, load_operations
from herald.sources.x.ratelimit import Budget
from herald.sources.x.signing import signs_requests
from herald.sources.x.urls import URLCache

log = logging.getLogger(__name__)


class RedactSessionHeaders(logging.Filter):
    """Blank cookie, CSRF and authorization values in httpcore's DEBUG traces.

    httpcore logs raw response headers (X's ``Set-Cookie: ct0=...``) at DEBUG; herald must
    never write a session secret to a log, whatever level an operator turns on.
    """

    PATTERN = re.compile(
        r"""(\(b['"](?:set-cookie|cookie|x-csrf-token|authorization)['"], b)(?:'[^']*'|"[^"]*")""",
        re.IGNORECASE,
    )

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.PATTERN.sub(r"\1'<redacted>'", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_REDACT = RedactSessionHeaders()
for _name in ("httpcore.http11", "httpcore.http2", "httpcore.connection", "httpcore.proxy"):
    if _REDACT not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_REDACT)

SETTINGS_PATH = "/i/api/1.1/account/settings.json"
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/136.0.0.0 Safari/537.36"
)


@dataclass(frozen=True, slots=True)
class XResponse:
    """One GraphQL answer: its JSON body and the endpoint budget X reported with it."""

    operation: str
    body: dict[str, Any]
    budget: Budget | None


# --- x-client-transaction-id ---------------------------------------------------------
class TransactionIds:
    """X's anti-bot request signature, computed by twscrape's maintained ``xclid`` module.

    The generator reads keys from x.com's web app once (one page and a script load) and is
    reused; X answers 404 to a stale signature, and the client then asks for a fresh one.
    """

    def __init__(
        self,
        cookies: Callable[[], dict[str, str]],
        timeout: float,
        factory: GeneratorFactory | None = None,
    ) -> None:
        self._cookies = cookies
        self._timeout = timeout
        self._factory = factory or _twscrape_generator
        self._generator: Signer | None = None

    async def header(self, method: str, path: str, *, fresh: bool = False) -> str:
        if self._generator is None or fresh:
            try:
                async with asyncio.timeout(self._timeout * 2):
                    self._generator = await self._factory(self._cookies())
            except TimeoutError as exc:
                raise FetchTimeout(
                    "X's web app did not load in time to sign requests (x-client-transaction-id)"
                ) from exc
            except Exception as exc:  # twscrape raises its own and httpx's errors here
                raise UpstreamError(
                    "could not compute X's x-client-transaction-id from x.com's web app "
                    f"({type(exc).__name__}); X may have changed it: upgrade twscrape"
                ) from exc
        return str(self._generator.calc(method, path))


class Signer(Protocol):
    def calc(self, method: str, path: str) -> str: ...


GeneratorFactory = Callable[[dict[str, str]], Awaitable[Signer]]


async def _twscrape_generator(cookies: dict[str, str]) -> Signer:
    from twscrape.xclid import XClIdGen  # type: ignore[import-untyped]  # heavy: load lazily

    generator: Signer = await XClIdGen.create(cookies=cookies)
    return generator


class _NoCookies(CookieJar):
    """A jar that keeps nothing: the client sends the session cookie itself and reads a
    rotated ct0 from Set-Cookie, so httpx's per-request cookie bookkeeping is skipped."""

    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def _compact(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def _set_cookie(response: httpx.Response, name: str) -> str | None:
    """A cookie from the raw Set-Cookie headers (whatever their Domain attribute says)."""
    for header in response.headers.get_list("set-cookie"):
        first = header.split(";", 1)[0]
        key, _, value = first.partition("=")
        if key.strip() == name and value.strip():
            return value.strip()
    return None


class XClient:
    """One X session: its cookie, its CSRF token and its connection pool."""

    def __init__(
        self,
        settings: Settings,
        cookie: str,
        *,
        operations: Operations | None = None,
        transaction_ids: GeneratorFactory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        cookies = parse_cookie(cookie)
        if not cookies.get("auth_token"):
            raise AccountAuthFailed("the X session cookie has no auth_token value")
        self._auth_token = cookies["auth_token"]
        self._ct0: str | None = cookies.get("ct0")
        self._ops = operations or load_operations()
        self._clock = clock
        self._timeout = settings.poll_timeout
        self._base = settings.x_base_url.rstrip("/")
        self._urls = URLCache(self._base)
        self._session_lock = asyncio.Lock()
        self._txid: TransactionIds | None = (
            TransactionIds(self._cookie_dict, settings.poll_timeout, factory=transaction_ids)
            if signs_requests(settings)
            else None
        )
        self._http = httpx.AsyncClient(
            base_url=self._base,
            cookies=_NoCookies(),
            timeout=httpx.Timeout(settings.poll_timeout),
            follow_redirects=False,
            headers={
                "user-agent": USER_AGENT,
                "authorization": f"Bearer {self._ops.bearer}",
                "x-twitter-auth-type": "OAuth2Session",
                "x-twitter-active-user": "yes",
                "x-twitter-client-language": "en",
                "accept": "*/*",
                "referer": f"{self._base}/",
            },
        )

    # --- public ------------------------------------------------------------------
    async def graphql(self, name: str, variables: Mapping[str, Any]) -> XResponse:
        """GET one GraphQL operation; the operation's default variables are merged first."""
        op = self._ops[name]
        await self._ensure_session()
        params = {
            "variables": _compact({**op.variables, **variables}),
            "features": _compact(op.features),
        }
        if op.field_toggles:
            params["fieldToggles"] = _compact(op.field_toggles)
        response = await self._get(op.name, op.path, params)
        if response.status_code == 404 and self._txid is not None:
            # X answers 404 to a stale x-client-transaction-id; compute a fresh one once.
            response = await self._get(op.name, op.path, params, fresh_txid=True)
        try:
            return self._read(name, response)
        except AccountAuthFailed:
            self._ct0 = None  # a rejected ct0 is re-obtained on the next request
            raise

    async def screen_name(self) -> str:
        """The session's own handle, from ``account/settings.json`` (where the web app
        reads it): what a write's reconciliation looks for its tweets under."""
        await self._ensure_session()
        response = await self._send("account/settings", "GET", SETTINGS_PATH)
        body = classify("account/settings", response, self._clock())
        name = body.get("screen_name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            raise SchemaError("X answered account/settings without screen_name")
        return name

    async def graphql_post(self, name: str, variables: Mapping[str, Any]) -> XResponse:
        """POST one GraphQL mutation, as x.com's web app (and twikit's ``gql_post``) sends
        it: a JSON body ``{variables, features, queryId}``, signed like a read.

        Sent once, never retried here: a timeout, a dropped connection or a 5xx after the
        request left raises :class:`WriteOutcomeUnknown` (X may have applied it); only a
        connection that was never made raises :class:`UpstreamError` (nothing was sent).
        """
        op = self._ops[name]
        await self._ensure_session()
        body: dict[str, Any] = {"variables": {**op.variables, **variables}, "queryId": op.query_id}
        if op.features and op.send_features:
            body["features"] = op.features
        headers: dict[str, str] = {"content-type": "application/json"}
        if self._txid is not None:
            headers["x-client-transaction-id"] = await self._txid.header("POST", op.path)
        try:
            response = await self._http.request(
                "POST",
                op.path,
                content=orjson.dumps(body),
                headers={**self._session_headers(), **headers},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise UpstreamError(
                f"could not reach X at {self._base} for {name} ({type(exc).__name__}); "
                "nothing was sent"
            ) from exc
        except (httpx.LocalProtocolError, UnicodeEncodeError):
            raise AccountAuthFailed(
                "the session cookie of this X account is not a valid HTTP header value; "
                "add a fresh one with `herald accounts add`"
            ) from None
        except httpx.HTTPError as exc:
            raise WriteOutcomeUnknown(
                f"X did not answer {name} within {self._timeout:g}s ({type(exc).__name__}): "
                "it may or may not have been applied"
            ) from exc
        if response.status_code >= 500:
            raise WriteOutcomeUnknown(
                f"X failed to answer {name} (HTTP {response.status_code}): it may or may not "
                "have been applied"
            )
        raise_refusal(name, response)
        try:
            return self._read(name, response)
        except AccountAuthFailed:
            self._ct0 = None
            raise

    async def rest(self, name: str, path: str, params: Mapping[str, str]) -> XResponse:
        """GET one of the REST (1.1) endpoints X's web app uses, such as the DM inbox."""
        await self._ensure_session()
        response = await self._get(name, path, params)
        if response.status_code == 404 and self._txid is not None:
            response = await self._get(name, path, params, fresh_txid=True)
        try:
            return self._read(name, response)
        except AccountAuthFailed:
            self._ct0 = None
            raise

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> XClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"XClient(base_url={self._base!r}, session=<hidden>)"

    # --- session -----------------------------------------------------------------
    def _cookie_dict(self) -> dict[str, str]:
        jar = {"auth_token": self._auth_token}
        if self._ct0:
            jar["ct0"] = self._ct0
        return jar

    def _session_headers(self) -> dict[str, str]:
        headers = {"cookie": "; ".join(f"{k}={v}" for k, v in self._cookie_dict().items())}
        if self._ct0:
            headers["x-csrf-token"] = self._ct0
        return headers

    async def _ensure_session(self) -> None:
        """Obtain ct0 (X's CSRF token) when the cookie is a bare auth_token, as the seed's is.

        X hands ct0 out in a Set-Cookie to any request that carries a valid auth_token,
        even when it refuses that request for its missing CSRF header.
        """
        if self._ct0:
            return
        async with self._session_lock:
            if self._ct0:
                return
            response = await self._send("account/settings", "GET", SETTINGS_PATH)
            ct0 = _set_cookie(response, "ct0")
            if ct0:
                self._ct0 = ct0
                return
            classify("account/settings", response, self._clock())
            raise AccountAuthFailed(
                "X did not hand out a CSRF token (ct0) for the session cookie: it has expired "
                "or was logged out; add a fresh one with `herald accounts add`"
            )

    # --- transport ---------------------------------------------------------------
    async def _get(
        self, name: str, path: str, params: Mapping[str, str], *, fresh_txid: bool = False
    ) -> httpx.Response:
        headers: dict[str, str] = {"content-type": "application/json"}
        if self._txid is not None:
            headers["x-client-transaction-id"] = await self._txid.header(
                "GET", path, fresh=fresh_txid
            )
        url = self._urls.get(path, params)
        return await self._send(name, "GET", url, headers=headers)

    async def _send(
        self,
        what: str,
        method: str,
        path: str | httpx.URL,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        try:
            response = await self._http.request(
                method, path, headers={**self._session_headers(), **(headers or {})}
            )
        except httpx.TimeoutException as exc:
            raise FetchTimeout(
                f"X did not answer {what} within {self._timeout:g}s ({type(exc).__name__})"
            ) from exc
        except (httpx.LocalProtocolError, UnicodeEncodeError):
            # The cookie cannot go in a header (a newline, non-ASCII): the account is unusable.
            # No chained exception: its text would quote the cookie.
            raise AccountAuthFailed(
                "the session cookie of this X account is not a valid HTTP header value (one line "
                "of printable ASCII); add a fresh one with `herald accounts add`"
            ) from None
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"could not reach X at {self._base} for {what} ({type(exc).__name__})"
            ) from exc
        rotated = _set_cookie(response, "ct0")
        if rotated and self._ct0 and rotated != self._ct0:
            self._ct0 = rotated  # X rotates the CSRF token now and then
        log.debug(
            "X %s -> HTTP %s (budget %s)",
            what,
            response.status_code,
            response.headers.get("x-rate-limit-remaining", "?"),
        )
        return response

    def _read(self, name: str, response: httpx.Response) -> XResponse:
        body = classify(name, response, self._clock())
        if body is None:
            raise SchemaError(
                f"X answered {name} with a body that is not JSON "
                f"(HTTP {response.status_code}, {len(response.content)} bytes)"
            )
        if not isinstance(body, dict):
            raise SchemaError(f"X answered {name} with JSON that is not an object")
        return XResponse(name, body, Budget.from_headers(response.headers))
