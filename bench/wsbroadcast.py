"""The bare ``websockets.broadcast`` peer: the floor for what a Python WebSocket server costs.

Run as ``python -m bench.wsbroadcast PORT EVENT_JSON_FILE``. ``GET /burst?n=N`` broadcasts
the event N times to every connection; any other path is a WebSocket.
"""

from __future__ import annotations

import asyncio
import json
import sys
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.http11 import Request, Response


async def main(port: int, body: str) -> None:
    message = json.dumps({"type": "events:stream:v1:stream", "id": "bench", "payload": None})
    message = message.replace("null}", body + "}")
    running: list[Server] = []

    def burst(n: int) -> None:
        for _ in range(n):
            broadcast(running[0].connections, message)

    def process_request(conn: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path == "/burst":
            n = int(parse_qs(url.query).get("n", ["1"])[0])
            asyncio.get_running_loop().call_soon(burst, n)
            return conn.respond(HTTPStatus.OK, "ok\n")
        return None

    async def handler(conn: ServerConnection) -> None:
        await conn.wait_closed()

    async with serve(
        handler, "127.0.0.1", port, process_request=process_request, compression=None
    ) as server:
        running.append(server)
        print(f"ready {port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2]).read_text().strip()))
