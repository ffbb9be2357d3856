"""``python -m herald.testing.fakefeed [--host H] [--port P] [--fixtures DIR]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from herald.testing.fakefeed.server import default_fixtures, run


def main() -> None:
    parser = argparse.ArgumentParser(prog="fakefeed", description="A local feed stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8092)
    parser.add_argument("--fixtures", type=Path, default=None, help="folder of feeds")
    args = parser.parse_args()
    run(host=args.host, port=args.port, fixtures_dir=args.fixtures or default_fixtures())


if __name__ == "__main__":
    main()
