"""The RSS source against the feed stand-in over loopback: conditional GET, the upstream's
wishes on pacing, and every kind of bad answer as its own clear error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rss_support import fakefeed

from herald.errors import (
    DnsError,
    FeedHttpError,
    FeedTooLarge,
    InvalidFeed,
    NotAFeed,
    RateLimited,
    RedirectError,
    SourceError,
    TlsError,
    UpstreamError,
)
from herald.sources.base import FetchResult, PollContext
from herald.sources.rss import source as rss_source
from herald.sources.rss.http import FeedClient, max_age, retry_after
from herald.sources.rss.parse import Entry
from herald.sources.rss.source import RssSource
from tests.servers import free_port

pytestmark = pytest.mark.timeout(60)


class Feed:
    """One feed polled by the source the way the engine does: the cursor carried along."""

    def __init__(self, source: RssSource, url: str, control: httpx.AsyncClient) -> None:
        self.source, self.url, self.control = source, url, control
        self.cursor: dict[str, str] = {}
        self.baseline = True

    async def fetch(self, name: str = "guardian") -> FetchResult:
        ctx = PollContext(
            stream_id="s1",
            type="rss:feed",
            username=f"{self.url}/feeds/{name}",
            cursor=self.cursor,
            baseline=self.baseline,
        )
        result = await self.source.fetch(ctx)
        self.cursor, self.baseline = dict(result.cursor), False
        return result

    async def ctl(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.control.request(method, f"/_fakefeed{path}", **kwargs)
        assert response.status_code < 400, response.text
        return response.json()

    async def counts(self, name: str = "guardian") -> dict[str, int]:
        return dict((await self.ctl("GET", "/requests"))["feeds"].get(name, {}))


@pytest.fixture
async def feed(feeds: Path) -> AsyncIterator[Feed]:
    source = RssSource(FeedClient(max_bytes=1024 * 1024, timeout=5), max_floor=3600)
    try:
        async with fakefeed(feeds) as (url, control):
            yield Feed(source, url, control)
    finally:
        await source.aclose()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the real parser's calls (the parser still runs)."""
    calls: list[int] = []
    real = rss_source.parse_feed

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(rss_source, "parse_feed", counted)
    return calls


async def test_an_unchanged_feed_costs_a_304_and_no_parse(feed: Feed, parses: list[int]) -> None:
    first = await feed.fetch()
    assert len(first.items) == 55 and len(parses) == 1
    assert first.cursor["etag"].startswith('"guardian-') and first.cursor["lastModified"]
    second = await feed.fetch()
    assert second.items == [] and len(parses) == 1  # no parse
    assert second.cursor["etag"] == first.cursor["etag"]
    assert second.cursor["seen"] == first.cursor["seen"]  # the memory is kept as it was
    assert await feed.counts() == {"total": 2, "ok": 1, "notModified": 1}
    # a new ETag on the same content: a 200, parsed, nothing new to the source's memory
    await feed.ctl("POST", "/feeds/guardian/etag")
    third = await feed.fetch()
    assert len(parses) == 2 and len(third.items) == 55 and third.gap is None


async def test_last_modified_alone_also_gives_304s(feed: Feed, parses: list[int]) -> None:
    await feed.ctl("PUT", "/feeds/heise/settings", json={"etag": False})
    first = await feed.fetch("heise")
    assert "etag" not in first.cursor and first.cursor["lastModified"]
    assert (await feed.fetch("heise")).items == []
    assert len(parses) == 1
    await feed.ctl("POST", "/feeds/heise/entries", json={"title": "fresh"})
    third = await feed.fetch("heise")
    assert len(parses) == 2 and third.items[0].title == "fresh"
    assert await feed.counts("heise") == {"total": 3, "ok": 2, "notModified": 1}


async def test_cache_control_and_retry_after_set_a_capped_floor(feed: Feed) -> None:
    headers = {"Cache-Control": "public, max-age=120"}
    await feed.ctl("PUT", "/feeds/narro/settings", json={"headers": headers})
    assert (await feed.fetch("narro")).min_interval == 120
    assert (await feed.fetch("narro")).min_interval == 120  # also on a 304
    headers = {"Cache-Control": "max-age=60", "Retry-After": "300"}
    await feed.ctl("PUT", "/feeds/narro/settings", json={"headers": headers})
    assert (await feed.fetch("narro")).min_interval == 300
    await feed.ctl("PUT", "/feeds/narro/settings", json={"headers": {"Retry-After": "99999999"}})
    assert (await feed.fetch("narro")).min_interval == 3600  # HERALD_MAX_INTERVAL
    await feed.ctl("PUT", "/feeds/narro/settings", json={"headers": {"Cache-Control": "no-cache"}})
    assert (await feed.fetch("narro")).min_interval is None


def test_header_arithmetic() -> None:
    assert retry_after({"retry-after": "30"}) == 30
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470) == 10
    assert retry_after({"retry-after": "soon"}) is None and retry_after({}) is None
    assert max_age({"cache-control": 'max-age="90", must-revalidate'}) == 90
    assert max_age({"cache-control": "no-store, max-age=90"}) is None


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        ({"mode": "rate_limited", "retryAfter": 30}, RateLimited, r"HTTP 429\), retry after 30s"),
        ({"mode": "status", "status": 503, "retryAfter": 5}, RateLimited, "HTTP 503"),
        ({"mode": "server_error"}, UpstreamError, "HTTP 500"),
        ({"mode": "status", "status": 404}, FeedHttpError, "HTTP 404"),
        ({"mode": "status", "status": 410}, FeedHttpError, "HTTP 410"),
        ({"mode": "html"}, NotAFeed, "HTML page"),
        ({"mode": "garbage"}, InvalidFeed, "not well-formed XML"),
        ({"mode": "empty"}, NotAFeed, "empty body"),
        ({"mode": "oversized", "bytes": 4 * 1024 * 1024}, FeedTooLarge, "cut off"),
        ({"mode": "redirect_loop"}, RedirectError, "loop"),
    ],
)
async def test_each_bad_answer_is_its_own_clear_error(
    feed: Feed, fault: dict[str, Any], error: type[SourceError], words: str
) -> None:
    await feed.fetch()
    await feed.ctl("POST", "/faults", json={**fault, "feed": "guardian"})
    with pytest.raises(error, match=words) as caught:
        await feed.fetch()
    assert feed.url not in caught.value.detail  # the URL may hold a token: never repeated
    if fault["mode"] == "rate_limited":
        assert caught.value.retry_after == 30 and not caught.value.counts_as_error
    # the fault is spent: the next poll is a plain 304
    assert (await feed.fetch()).items == []


async def test_a_rate_limit_waits_at_most_the_longest_interval(feed: Feed) -> None:
    capped = RssSource(FeedClient(max_bytes=1 << 20, timeout=5, max_wait=3600), max_floor=3600)
    try:
        await feed.ctl("POST", "/faults", json={"mode": "rate_limited", "retryAfter": 10**9})
        ctx = PollContext(stream_id="s1", type="rss:feed", username=f"{feed.url}/feeds/narro")
        with pytest.raises(RateLimited) as caught:
            await capped.fetch(ctx)
        assert caught.value.retry_after == 3600
        await feed.ctl("POST", "/faults", json={"mode": "status", "status": 429})
        with pytest.raises(RateLimited) as caught:
            await capped.fetch(ctx)
        assert caught.value.retry_after is None  # no Retry-After: the stream's interval
    finally:
        await capped.aclose()


async def test_a_redirect_is_followed_and_links_resolve_where_the_feed_was_read(
    feed: Feed,
) -> None:
    ctx = PollContext(
        stream_id="s1", type="rss:feed", username=f"{feed.url}/_fakefeed/moved/gulp-atom"
    )
    result = await feed.source.fetch(ctx)
    assert len(result.items) == 10
    first = result.items[0]
    assert isinstance(first, Entry)
    assert first.link == f"{feed.url}/gulpjs/gulp/releases/tag/v3.9.0"  # relative in the feed


async def test_a_declared_length_over_the_cap_is_refused_before_reading(feeds: Path) -> None:
    source = RssSource(FeedClient(max_bytes=4096, timeout=5), max_floor=3600)
    try:
        async with fakefeed(feeds) as (url, control):
            with pytest.raises(FeedTooLarge, match="declared"):
                await Feed(source, url, control).fetch()
    finally:
        await source.aclose()


async def test_tls_dns_and_refused_connections_are_told_apart(feed: Feed) -> None:
    port = feed.url.rsplit(":", 1)[1]
    cases: list[tuple[str, type[SourceError], str]] = [
        (f"https://127.0.0.1:{port}/feeds/guardian", TlsError, "TLS handshake"),
        ("http://feed.invalid/rss", DnsError, "does not resolve"),
        (f"http://127.0.0.1:{free_port()}/feed", UpstreamError, "could not connect"),
    ]
    for url, error, words in cases:
        ctx = PollContext(stream_id="s1", type="rss:feed", username=url)
        with pytest.raises(error, match=words):
            await feed.source.fetch(ctx)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no one signed: what a misconfigured host serves."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_an_untrusted_certificate_is_a_tls_error(feeds: Path, tmp_path: Path) -> None:
    from herald.testing.fakefeed import create_app
    from tests.servers import serve_asgi

    cert, key = self_signed(tmp_path)
    source = RssSource(FeedClient(max_bytes=1 << 20, timeout=5), max_floor=3600)
    try:
        app = create_app(feeds)
        async with serve_asgi(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as url:
            https = url.replace("http://", "https://") + "/feeds/narro"
            ctx = PollContext(stream_id="s1", type="rss:feed", username=https)
            with pytest.raises(
                TlsError, match=r"self-signed certificate \(CERTIFICATE_VERIFY_FAILED\)"
            ):
                await source.fetch(ctx)
    finally:
        await source.aclose()
