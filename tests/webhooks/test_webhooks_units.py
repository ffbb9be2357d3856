"""The delivery client against raw HTTP servers, the schedule, signatures and presets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
from standardwebhooks import Webhook

from herald.webhooks import presets, signing
from herald.webhooks.schedule import SVIX, Schedule, parse_schedule, retry_after
from herald.webhooks.sender import Limits, new_client, send

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]
LIMITS = Limits(connect_timeout=1, timeout=2, max_response=1024, allow_private=True)


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/hook"


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    return head, await reader.readexactly(length)


async def post(url: str, client: Any = None, msg_id: str = "tweet:1@s") -> Any:
    own = client is None
    client = client or new_client(LIMITS)
    try:
        key = signing.secret_key(SECRET)
        return await send(
            client, LIMITS, url=url, key=key, fmt="standard", msg_id=msg_id, data=b'{"a":1}'
        )
    finally:
        if own:
            await client.close()


SECRET = signing.new_secret()


async def test_keep_alive_and_a_server_that_closes_idle_connections() -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        if connections == 1:  # keeps the first connection for a second request
            await read_request(reader)
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
        writer.close()  # then closes it while idle

    async with raw_server(handler) as url:
        client = new_client(LIMITS)
        results = [await post(url, client) for _ in range(3)]
        await client.close()
    assert [r.status for r in results] == [200, 204, 200]
    assert connections == 2  # the closed idle connection was replaced once, transparently


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        + b"400\r\n"
        + b"y" * 1024
        + b"\r\n" * 1
        + b"400\r\n"
        + b"y" * 1024
        + b"\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n" + b"z" * 5000,
        b"HTTP/1.0 200 OK\r\n\r\n" + b"w" * 5000,
    ],
    ids=["chunked", "content-length", "until-close"],
)
async def test_answers_over_the_cap_are_cut(answer: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()
        writer.close()

    async with raw_server(handler) as url:
        result = await post(url)
    assert result.ok and result.truncated


async def test_garbage_and_silence_are_failed_attempts() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        writer.close()

    async with raw_server(garbage) as url:
        result = await post(url)
    assert not result.ok and result.error == "not an HTTP/1.x answer"

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    async with raw_server(hang_up) as url:
        result = await post(url)
    assert not result.ok and "closed the connection" in (result.error or "")


async def test_a_line_break_in_an_event_id_cannot_reach_the_headers() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, body = await read_request(reader)
        seen.extend((head, body))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async with raw_server(handler) as url:
        result = await post(url, msg_id="entry:x\r\nX-Evil: 1@s")
    assert result.ok
    lines = seen[0].decode().split("\r\n")
    assert not any(line.lower().startswith("x-evil") for line in lines)
    headers = {
        k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    assert Webhook(SECRET).verify(seen[1], headers) == {"a": 1}


def test_schedule() -> None:
    assert parse_schedule("0,5,300,1800,7200,18000,36000,36000") == SVIX
    assert parse_schedule("0, 200ms, 1m, 1h") == (0.0, 0.2, 60.0, 3600.0)
    for bad in ("", "x", "-1", "9d"):
        with pytest.raises(ValueError):
            parse_schedule(bad)
    low, high = (
        Schedule(SVIX, jitter=0.1, rand=lambda: 0.0),
        Schedule(SVIX, jitter=0.1, rand=lambda: 0.999),
    )
    assert low.delay(1) == pytest.approx(4.5) and high.delay(1) == pytest.approx(5.5, abs=0.01)
    assert low.delay(8) is None  # eight attempts, then give up
    assert Schedule((0, 0.2)).delay(1, asked=30) == 30  # Retry-After wins when longer
    assert Schedule((0, 0.2)).delay(1, asked=10**9) == 3600  # ... within a cap
    assert retry_after("120", 0) == 120 and retry_after("soon", 0) is None
    assert retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40.0) == 60.0


def test_signatures_match_the_reference_verifier() -> None:
    secret = signing.new_secret()
    body = b'{"type":"stream:tweet:new","eventId":"tweet:1@s"}'
    import time

    headers = signing.headers(signing.secret_key(secret), "tweet:1@s", int(time.time()), body)
    assert Webhook(secret).verify(body, headers)["eventId"] == "tweet:1@s"
    with pytest.raises(Exception):  # noqa: B017 - the library's own verification error
        Webhook(signing.new_secret()).verify(body, headers)


def test_presets_read_alerts_errors_and_followers() -> None:
    alert = {
        "type": "alert:firing",
        "eventId": "a@b",
        "alert": {"ruleId": "mood", "value": -0.6, "threshold": -0.3, "window": 300},
    }
    assert "Alert FIRING: mood" in presets.slack(alert)["text"]
    assert presets.discord(alert)["embeds"][0]["color"] == 0xD93F0B
    error = {
        "type": "stream:error",
        "target": "nasa",
        "error": "rate limited",
        "consecutiveErrors": 2,
    }
    assert "rate limited" in presets.discord(error)["content"]
    follower = {
        "type": "stream:follower:new",
        "target": "nasa",
        "follower": {"id": "1", "username": "bob"},
    }
    assert "@bob" in presets.slack(follower)["text"]
    huge = {"type": "stream:post:new", "post": {"text": "w" * 10_000, "author": "a"}}
    assert len(presets.slack(huge)["blocks"][0]["text"]["text"]) <= presets.SLACK_TEXT
    assert len(presets.discord(huge)["content"]) <= presets.DISCORD_CONTENT
