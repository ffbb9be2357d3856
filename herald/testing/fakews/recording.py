"""Reading a recorded WebSocket session: ``exchanges/*.ws.*`` files.

The format (one line each): the first line is the URL the client opened (``URL <-> time``);
``URL <- time: frame`` lines are what the client sent; ``time: frame`` lines are frames the
client received, with their receive time in Unix seconds. The stand-in replays the
received frames and answers the sent ones; nothing here invents a frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import orjson


class RecordingError(ValueError):
    """The file is not a WebSocket recording in the format above."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """One received frame: its offset from the first frame (seconds) and its text."""

    at: float
    text: str
    kind: str
    """What the frame is, for counting: Binance's ``data.e`` (``bookTicker`` for the
    untyped book frames), Coinbase's ``type``; ``frame`` when it says neither."""
    stream: str | None = None
    """Binance combined streams: the ``stream`` name the frame belongs to."""
    product: str | None = None
    """Coinbase: the frame's ``product_id``."""


@dataclass(frozen=True, slots=True)
class Recording:
    url: str
    frames: tuple[Recorded, ...]
    sent: tuple[str, ...] = ()
    """What the recorded client sent (its subscribe messages), in order."""
    dialect: str = "generic"
    """``binance`` (combined ``{stream, data}`` frames), ``coinbase`` (``type`` frames
    after a ``subscribe``) or ``generic`` (every frame to every client)."""
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The URL path the recording was made on (``/stream``, ``/``)."""
        return urlsplit(self.url).path or "/"

    @property
    def query(self) -> str:
        return urlsplit(self.url).query

    def summary(self) -> dict[str, object]:
        return {
            "url": self.url,
            "path": self.path,
            "dialect": self.dialect,
            "frames": len(self.frames),
            "seconds": round(self.frames[-1].at, 3) if self.frames else 0.0,
            "kinds": dict(self.kinds),
            "sent": len(self.sent),
        }


def _split_time(line: str, number: int) -> tuple[float, str]:
    stamp, sep, rest = line.partition(": ")
    try:
        if not sep:
            raise ValueError(stamp)
        return float(stamp), rest
    except ValueError:
        raise RecordingError(f"line {number}: expected '<unix time>: <frame>'") from None


def _classify(text: str) -> tuple[str, str | None, str | None]:
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return "frame", None, None
    if not isinstance(frame, dict):
        return "frame", None, None
    if isinstance(frame.get("stream"), str) and isinstance(frame.get("data"), dict):
        data = frame["data"]
        kind = data.get("e") if isinstance(data.get("e"), str) else frame["stream"].split("@")[-1]
        return str(kind), frame["stream"], None
    kind = frame.get("type")
    product = frame.get("product_id")
    return (
        kind if isinstance(kind, str) else "frame",
        None,
        product if isinstance(product, str) else None,
    )


def parse_recording(text: str) -> Recording:
    """The recording in ``text``; :class:`RecordingError` names the first bad line."""
    lines = text.splitlines()
    if not lines or "<->" not in lines[0]:
        raise RecordingError("line 1: expected '<url> <-> <unix time>' (the URL opened)")
    url = lines[0].split(" <-> ", 1)[0].strip()
    if urlsplit(url).scheme not in ("ws", "wss"):
        raise RecordingError(f"line 1: {url!r} is not a ws:// or wss:// URL")
    frames: list[Recorded] = []
    sent: list[str] = []
    kinds: dict[str, int] = {}
    first: float | None = None
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        if " <- " in line.split(": ", 1)[0]:
            _, frame = _split_time(line.split(" <- ", 1)[1], number)
            sent.append(frame)
            continue
        at, frame = _split_time(line, number)
        first = at if first is None else first
        kind, stream, product = _classify(frame)
        kinds[kind] = kinds.get(kind, 0) + 1
        frames.append(Recorded(max(0.0, at - first), frame, kind, stream, product))
    if not frames:
        raise RecordingError("the recording holds no received frames")
    if any(f.stream is not None for f in frames):
        dialect = "binance"
    elif any('"subscribe"' in s for s in sent) or any(f.product for f in frames):
        dialect = "coinbase"
    else:
        dialect = "generic"
    return Recording(url, tuple(frames), tuple(sent), dialect, kinds)


def load_recording(path: Path) -> Recording:
    try:
        return parse_recording(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise RecordingError(f"{path}: not UTF-8 text ({exc.reason})") from None
