"""``herald fakex``, ``herald fakedon``, ``herald fakefeed``, ``herald fakews`` and
``herald fakesky``: the platforms' stand-ins.

Each serves a platform's real paths from recorded responses, with a control API to add items
and faults, so herald can be tested and tried without the real service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from herald.cli.common import fail

err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def fakex(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
        fixtures: Annotated[
            Path | None,
            typer.Option(
                help="Serve recorded X responses from this folder.", exists=True, file_okay=False
            ),
        ] = None,
    ) -> None:
        """Run the local X stand-in (for tests, benchmarks and trying herald without X)."""
        from herald.testing.fakex import run

        err.print(f"[bold green]fakex[/] on http://{host}:{port}  (control API under /_fakex)")
        run(host=host, port=port, fixtures_dir=fixtures)

    @app.command()
    def fakedon(
        fixtures: Annotated[
            Path,
            typer.Option(
                help="Folder of recorded Mastodon cassettes (vcrpy YAML) to build answers from.",
                exists=True,
                file_okay=False,
            ),
        ],
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8093,
    ) -> None:
        """Run the local Mastodon stand-in, built from recorded cassettes."""
        from herald.testing.fakedon import run

        err.print(f"[bold green]fakedon[/] on http://{host}:{port}  (control API under /_fakedon)")
        try:
            run(fixtures, host=host, port=port)
        except FileNotFoundError as exc:
            fail(str(exc), code=2)

    @app.command()
    def fakefeed(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8092,
        fixtures: Annotated[
            Path | None,
            typer.Option(
                help="Serve the .rss/.atom files of this folder (or of its rss/ folder); "
                "default: $HERALD_FIXTURES/rss, else the recordings beside the repository.",
                exists=True,
                file_okay=False,
            ),
        ] = None,
    ) -> None:
        """Run the local RSS/Atom stand-in: recorded feeds at /feeds/<name>, with 304s."""
        from herald.testing.fakefeed import default_fixtures, run

        folder = fixtures or default_fixtures()
        if folder is None:
            err.print("[yellow]fakefeed[/]: no recorded feeds found; serving API-created feeds")
        err.print(
            f"[bold green]fakefeed[/] on http://{host}:{port}  (control API under /_fakefeed)"
        )
        try:
            run(host=host, port=port, fixtures_dir=folder)
        except (OSError, ValueError) as exc:
            fail(f"fakefeed: {exc}")

    @app.command()
    def fakews(
        recording: Annotated[
            Path,
            typer.Option(
                help="A recorded WebSocket session (first line the URL, then "
                "'<unix time>: <frame>' lines), e.g. exchanges/BINANCE.ws.1.0.",
                exists=True,
                dir_okay=False,
            ),
        ],
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8095,
        speed: Annotated[
            float, typer.Option(min=0.001, help="Replay N times faster than recorded.")
        ] = 1.0,
        max_speed: Annotated[
            bool, typer.Option("--max-speed", help="Replay as fast as the client reads.")
        ] = False,
        loop: Annotated[
            bool, typer.Option("--loop", help="Start the recording over when it ends.")
        ] = False,
    ) -> None:
        """Run the local WebSocket stand-in: replays a recorded exchange session."""
        from herald.testing.fakews import RecordingError, run

        pace = "max speed" if max_speed else f"x{speed:g}"
        err.print(
            f"[bold green]fakews[/] on ws://{host}:{port}  ({pace}; control API under /_fakews)"
        )
        try:
            run(recording, host=host, port=port, speed=None if max_speed else speed, loop=loop)
        except (OSError, RecordingError) as exc:
            fail(f"fakews: {exc}")

    _register_fakesky(app)


def _register_fakesky(app: typer.Typer) -> None:
    @app.command()
    def fakesky(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8094,
        fixtures: Annotated[
            Path | None,
            typer.Option(
                help="Keep the recorded Jetstream frames of this folder (golden_v1.jsonl, or its "
                "bluesky-jetstream/ folder) for replay; default: $HERALD_FIXTURES, else the "
                "recordings beside the repository.",
                exists=True,
                file_okay=False,
            ),
        ] = None,
        window: Annotated[
            int, typer.Option(help="Frames kept for cursor replay (oldest dropped first).", min=1)
        ] = 100_000,
    ) -> None:
        """Run the local Bluesky stand-in: Jetstream's /subscribe, handle resolution, profiles."""
        from herald.testing.fakesky import default_fixtures, run
        from herald.testing.fakesky.server import FOLDER

        folder = fixtures or default_fixtures()
        if folder is not None and (folder / FOLDER).is_dir():
            folder = folder / FOLDER
        if folder is None:
            err.print("[yellow]fakesky[/]: no recorded frames found; serving API-made frames")
        err.print(
            f"[bold green]fakesky[/] on ws://{host}:{port}/subscribe  (control API under /_fakesky)"
        )
        try:
            run(host=host, port=port, fixtures_dir=folder, window=window)
        except (OSError, ValueError) as exc:
            fail(f"fakesky: {exc}")
