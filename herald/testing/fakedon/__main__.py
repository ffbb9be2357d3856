"""``python -m herald.testing.fakedon --fixtures DIR [--host H] [--port P]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from herald.testing.fakedon.server import run


def main() -> None:
    parser = argparse.ArgumentParser(prog="fakedon", description="A local Mastodon stand-in.")
    parser.add_argument("--fixtures", type=Path, required=True, help="folder of cassettes")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8093)
    args = parser.parse_args()
    run(args.fixtures, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
