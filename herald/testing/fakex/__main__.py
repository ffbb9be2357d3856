"""``python -m herald.testing.fakex [--host H] [--port P] [--fixtures DIR]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from herald.testing.fakex.server import run


def main() -> None:
    parser = argparse.ArgumentParser(prog="fakex", description="A local X stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--fixtures", type=Path, default=None, help="folder of recordings")
    args = parser.parse_args()
    run(host=args.host, port=args.port, fixtures_dir=args.fixtures)


if __name__ == "__main__":
    main()
