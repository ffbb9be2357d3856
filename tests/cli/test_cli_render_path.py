"""``herald streams status`` names the path that read an X stream's last poll."""

from __future__ import annotations

from rich.console import Console

from herald.cli.render import stream_sheet


def _text(stream: dict[str, object]) -> str:
    console = Console(width=200, record=True)
    console.print(stream_sheet(stream))
    return console.export_text()


def test_the_path_is_shown_when_the_stream_has_one() -> None:
    stream = {"id": "s1", "type": "tweet", "target": "ann", "status": "active", "interval": 60000}
    assert "read through" not in _text(stream)
    shown = _text({**stream, "path": "browser"})
    assert any(line.split() == ["read", "through", "browser"] for line in shown.splitlines())
