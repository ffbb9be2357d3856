"""A webhook receiver on loopback for the chaos suite: verifies, records, answers 204.

``python -m bench.chaos.receiver PORT OUT``; the endpoints' secrets come as a JSON object
(endpoint id -> ``whsec_`` secret) in ``CHAOS_WEBHOOK_SECRETS`` (the environment, not the
command line that ``ps`` shows). ``POST /hook/<endpoint id>`` is checked with the spec's
reference library (``standardwebhooks.Webhook(secret).verify``) and one JSON line is
appended to ``OUT`` per arrival, in arrival order: ``{endpoint, id, eventId, type, ok}``.
Every request is answered 204, even a bad signature (counted, not retried forever), so
the scenario's verdict is the one place that decides.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

from standardwebhooks import Webhook


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as herald's client expects
    hooks: dict[str, Webhook] = {}
    out: IO[str]
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        endpoint = self.path.rsplit("/", 1)[-1]
        headers = {k.lower(): v for k, v in self.headers.items()}
        hook = self.hooks.get(endpoint)
        ok = False
        event: dict[str, Any] = {}
        if hook is not None:
            try:
                event = dict(hook.verify(body, headers))
                ok = True
            except Exception:  # any refusal by the reference library is a bad signature
                ok = False
        line = {
            "endpoint": endpoint,
            "id": headers.get("webhook-id"),
            "eventId": event.get("eventId"),
            "type": event.get("type"),
            "ok": ok,
        }
        with self.lock:  # one line per arrival, in the order they were answered
            self.out.write(json.dumps(line) + "\n")
            self.out.flush()
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per request would flood the scenario's stderr copy."""


def main(argv: list[str]) -> None:
    port, out = int(argv[0]), argv[1]
    secrets = json.loads(os.environ.get("CHAOS_WEBHOOK_SECRETS") or "{}")
    Handler.hooks = {k: Webhook(v) for k, v in secrets.items()}
    with open(out, "a", encoding="utf-8") as handle:
        Handler.out = handle
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        print(f"receiver listening on {port}", file=sys.stderr, flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
