"""``python -m herald.testing.fakesky [--host H] [--port P] [--fixtures DIR]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from herald.testing.fakesky.server import default_fixtures, run


def main() -> None:
    parser = argparse.ArgumentParser(prog="fakesky", description="A local Jetstream stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8094)
    parser.add_argument("--fixtures", type=Path, default=None, help="folder of recorded frames")
    parser.add_argument("--window", type=int, default=100_000, help="frames kept for replay")
    args = parser.parse_args()
    run(args.host, args.port, args.fixtures or default_fixtures(), args.window)


if __name__ == "__main__":
    main()
