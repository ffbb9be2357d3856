"""A fast webhook receiver for the bench, in its own process: HTTP/1.1 on a raw asyncio
protocol (keep-alive, Content-Length bodies), so that what is measured is herald's sending
and not a Python web framework's parsing.

It answers every POST with a 204 and counts them; ``GET /count`` answers the count as
JSON. Signatures are not checked here (the tests check them with the spec's reference
verifier).
"""

from __future__ import annotations

import argparse
import asyncio

COUNT = [0]
_NO_CONTENT = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"


class _Http(asyncio.Protocol):
    def __init__(self) -> None:
        self._buf = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buf += data
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buf[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self._buf) < end + 4 + length:
                return
            self._buf = self._buf[end + 4 + length :]
            assert self._transport is not None
            if head.startswith("GET /count"):
                body = b'{"count":%d}' % COUNT[0]
                self._transport.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(body), body)
                )
            else:
                COUNT[0] += 1
                self._transport.write(_NO_CONTENT)


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Http, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(_serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
