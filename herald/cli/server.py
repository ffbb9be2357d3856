"""``herald serve`` and ``herald worker``: the processes herald runs as."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from typing import Annotated

import typer
from rich.console import Console

from herald import redaction, runtime
from herald.cli.common import fail, load_settings_or_exit
from herald.config import Settings
from herald.errors import HeraldError

err = Console(stderr=True)


def _setup_logging(verbose: bool) -> None:
    redaction.install()  # no secret in any log line, whatever the level
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    logging.getLogger("saq").setLevel(logging.ERROR)
    logging.getLogger("mcp").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


LOOPBACK = "127.0.0.1"


def bind_host(host: str | None) -> str:
    """The address to listen on: an empty or unset host means loopback, never every
    interface (which is what an empty host means to the socket layer)."""
    return (host or "").strip() or LOOPBACK


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, host: str, insecure: bool) -> None:
    """Refuse to expose an unauthenticated server beyond this machine."""
    auth_on = bool(settings.api_keys or settings.read_api_keys or settings.jwt_secret)
    if not auth_on and not _is_loopback(host) and not insecure:
        raise HeraldError(
            f"refusing to listen on {host} without authentication: set HERALD_API_KEYS or "
            "HERALD_JWT_SECRET, or pass --insecure if this network is trusted"
        )


async def _serve(
    settings: Settings, host: str, port: int, worker: bool, concurrency: int | None
) -> None:
    from herald.api.app import create_app
    from herald.api.serving import listen, make_server
    from herald.service import Herald

    sock = listen(host, port)  # a taken port fails before storage or engine start
    herald = Herald(settings, worker=worker, worker_concurrency=concurrency)
    app = create_app(herald)
    grpc_note = ""
    if settings.grpc_port is not None:
        from herald.grpc import GrpcServer

        grpc_server = GrpcServer(herald, host, settings.grpc_port)
        try:
            grpc_note = f", gRPC on {host}:{grpc_server.bind()}"
        except HeraldError:
            sock.close()
            raise
        app.companions.append(grpc_server)

    def ready() -> None:
        err.print(
            f"[bold green]herald[/] serving on http://{host}:{port}  "
            f"(dashboard /, API /docs, Socket.IO /socket.io{grpc_note})  "
            f"storage: {herald.redis_display_url}",
            soft_wrap=True,
        )

    try:
        await make_server(app, ready).serve(sockets=[sock])
    finally:
        sock.close()  # uvicorn closes it only if it got as far as serving
    err.print("herald stopped")


async def _work(settings: Settings, concurrency: int | None) -> None:
    """SIGTERM and SIGINT stop it the same way: polls in flight get HERALD_SHUTDOWN_TIMEOUT
    to finish, the rest go back to the queue."""
    from herald.service import Herald

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Herald(settings, delivery=False, worker_concurrency=concurrency) as herald:
        err.print(f"[bold green]herald worker[/] polling for {herald.redis_display_url}")
        await stop.wait()
        err.print("stopping: letting in-flight polls finish")
    err.print("herald worker stopped")


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[
            str,
            typer.Option(
                help="Address to listen on (empty means 127.0.0.1).", envvar="HERALD_HOST"
            ),
        ] = LOOPBACK,
        port: Annotated[int, typer.Option(help="Port to listen on.", envvar="HERALD_PORT")] = 3001,
        workers: Annotated[
            int | None, typer.Option("--workers", help="Concurrent polls in the in-process worker.")
        ] = None,
        no_worker: Annotated[
            bool,
            typer.Option(
                "--no-worker", help="API and delivery only; polls run in `herald worker`."
            ),
        ] = False,
        insecure: Annotated[
            bool, typer.Option("--insecure", help="Allow a non-loopback address without auth.")
        ] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    ) -> None:
        """Run the API, real-time delivery, dashboard and one worker on http://127.0.0.1:3001."""
        _setup_logging(verbose)
        settings = load_settings_or_exit()
        redaction.register(settings.session_cookie, settings.secret_key)
        host = bind_host(host)
        try:
            check_bind(settings, host, insecure)
            runtime.run(_serve(settings, host, port, not no_worker, workers))
        except HeraldError as exc:
            fail(exc.detail)
        except KeyboardInterrupt:  # Ctrl-C before the server took over the signal
            pass

    @app.command()
    def worker(
        concurrency: Annotated[
            int | None, typer.Option("--concurrency", "-c", help="Concurrent polls.")
        ] = None,
        verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    ) -> None:
        """Run extra pollers against a shared external Redis (REDIS_URL or REDIS_HOST)."""
        _setup_logging(verbose)
        settings = load_settings_or_exit()
        redaction.register(settings.session_cookie, settings.secret_key)
        if settings.uses_embedded_redis:
            fail(
                "herald worker needs a shared Redis: set REDIS_URL (or REDIS_HOST). "
                "The embedded server belongs to one `herald serve` process.",
                code=2,
            )
        try:
            runtime.run(_work(settings, concurrency))
        except HeraldError as exc:
            fail(exc.detail)
