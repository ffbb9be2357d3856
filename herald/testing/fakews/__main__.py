"""``python -m herald.testing.fakews --recording PATH [--port P] [--speed N | --max-speed]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from herald.testing.fakews.server import run


def main() -> None:
    parser = argparse.ArgumentParser(prog="fakews", description="A local WebSocket stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--recording", type=Path, required=True)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--max-speed", action="store_true")
    parser.add_argument("--loop", action="store_true")
    args = parser.parse_args()
    speed = None if args.max_speed else args.speed
    run(args.recording, host=args.host, port=args.port, speed=speed, loop=args.loop)


if __name__ == "__main__":
    main()
