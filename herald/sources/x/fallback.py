"""The browser path: when X keeps refusing herald's GraphQL requests for a reason a browser
gets past, a poll loads the profile, followers or search page in the browser pool instead
and reads the GraphQL answers the page's own script fetched, with the same readers and
parsers.

The rule, per stream (kept in the stream's cursor, so every worker follows it):

- **Switch.** A poll on the GraphQL path whose request is refused for a reason a browser
  fixes (:data:`FIXABLE`: the transaction-id signature refused, a challenge page) is
  served by the browser when it is the ``HERALD_BROWSER_AFTER``-th failed poll in a row
  and the failures before it were of the same kind; before that it fails as usual.
- **Stay.** Polls then go through the browser (``path: "browser"`` in the stream status).
- **Probe.** Every ``HERALD_BROWSER_PROBE_EVERY``-th browser poll tries GraphQL first: if
  it answers, the stream is back on GraphQL; if it is refused again, the browser serves
  that poll too. Any other GraphQL error on a probe fails the poll as usual.

Follower streams load the profile's followers tab, which pages through ``Followers`` as it
is scrolled, so a full read (the snapshot) works there as on GraphQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import quote, urlencode

from herald.browser.pool import BrowserPool, Session
from herald.config import Settings
from herald.errors import ChallengeRequired, SignatureRefused
from herald.sources.base import FetchResult, PollContext
from herald.sources.x.readers import Call

FIXABLE: tuple[type[Exception], ...] = (SignatureRefused, ChallengeRequired)
FIXABLE_KINDS = frozenset({SignatureRefused.kind, ChallengeRequired.kind})
PATH = "path"
BROWSER_POLLS = "browserPolls"
GRAPHQL, BROWSER = "graphql", "browser"
BROWSER_TYPES = frozenset({"tweet", "mention", "x:search", "follower"})

Read = Callable[[PollContext, Call], Awaitable[FetchResult]]


def page_url(base: str, ctx: PollContext) -> str:
    """The page x.com's app shows for the stream: a profile, its followers tab, or the
    Latest search tab."""
    base = base.rstrip("/")
    name = ctx.username.strip().lstrip("@")
    if ctx.type == "tweet":
        return f"{base}/{quote(name)}"
    if ctx.type == "follower":
        return f"{base}/{quote(name)}/followers"
    query = f"@{name} -from:{name}" if ctx.type == "mention" else ctx.username
    return f"{base}/search?" + urlencode({"q": query, "src": "typed_query", "f": "live"})


def on_path(result: FetchResult, path: str, browser_polls: int | None = None) -> FetchResult:
    """The result with the path that served it recorded in its cursor."""
    cursor = {k: v for k, v in result.cursor.items() if k not in (PATH, BROWSER_POLLS)}
    cursor[PATH] = path
    if browser_polls is not None:
        cursor[BROWSER_POLLS] = str(browser_polls)
    return dataclasses.replace(result, cursor=cursor)


class BrowserFallback:
    """The rule above, and the browser read itself."""

    def __init__(self, settings: Settings, pool: BrowserPool) -> None:
        self.pool = pool
        self._base = settings.x_base_url
        self._after = settings.browser_after
        self._every = settings.browser_probe_every
        self._timeout = settings.poll_timeout

    def serves(self, ctx: PollContext) -> bool:
        return self.pool.enabled and ctx.type in BROWSER_TYPES

    @staticmethod
    def on_browser(ctx: PollContext) -> bool:
        return ctx.cursor.get(PATH) == BROWSER

    @staticmethod
    def browser_polls(ctx: PollContext) -> int:
        try:
            return int(ctx.cursor.get(BROWSER_POLLS) or 0)
        except ValueError:
            return 0

    def probe_due(self, ctx: PollContext) -> bool:
        return self.browser_polls(ctx) >= self._every

    def should_switch(self, ctx: PollContext) -> bool:
        """This refusal is the ``after``-th failed poll in a row, all refusals a browser fixes."""
        if ctx.consecutive_errors + 1 < self._after:
            return False
        return ctx.consecutive_errors == 0 or ctx.last_error_kind in FIXABLE_KINDS

    async def fetch(
        self, ctx: PollContext, account: str, cookies: Mapping[str, str], read: Read
    ) -> FetchResult:
        """Load the stream's page as ``account`` and run the readers over what it fetched."""
        from herald.browser.capture import PageReader

        session = Session(key=account, cookies=cookies, url=self._base)
        async with self.pool.page(session) as pooled:
            reader = PageReader(pooled.page, self._timeout)
            await reader.open(page_url(self._base, ctx))
            return await read(ctx, reader.call)
