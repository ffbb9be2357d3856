"""``herald streams stop --all``: one request per stream, in parallel, with a progress bar.

Stopping streams one by one (rather than ``POST /api/streams/stop-all``) lets a person
watch a long operation advance and see exactly which streams failed and why.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from herald.cli.client import CliError, HeraldClient
from herald.cli.common import connect, err, fail, out, print_json

PARALLEL = 8


def _stop_one(client: HeraldClient, stream_id: str) -> str | None:
    """None when stopped, else the reason it was not."""
    try:
        client.post("/api/streams/stop", {"streamId": stream_id})
    except CliError as exc:
        if exc.status == 404:  # already gone: stopped by someone else meanwhile
            return None
        return exc.message
    return None


def stop_all(url: str, token: str | None, *, json_out: bool, confirm: bool) -> None:
    with connect(url, token) as client:
        streams: list[dict[str, Any]] = client.get("/api/streams").get("streams", [])
        ids = [str(s["id"]) for s in streams]
        if ids and confirm and sys.stdin.isatty() and not json_out:
            typer.confirm(f"stop and remove all {len(ids)} stream(s) on {url}?", abort=True)
        failures = _run(client, ids, show=not json_out)
    result = {
        "stopped": len(ids) - len(failures),
        "failed": len(failures),
        "total": len(ids),
        "errors": [{"streamId": sid, "detail": why} for sid, why in sorted(failures.items())],
    }
    if json_out:
        print_json(result)
    else:
        out.print(f"stopped {result['stopped']} of {result['total']} stream(s)")
        for sid, why in sorted(failures.items()):
            err.print(f"  {sid}: {why}", markup=False, soft_wrap=True)
    if failures:
        fail(f"{len(failures)} stream(s) could not be stopped")


def _run(client: HeraldClient, ids: list[str], *, show: bool) -> dict[str, str]:
    failures: dict[str, str] = {}
    progress = Progress(
        TextColumn("stopping"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show,
    )
    with progress, ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        task = progress.add_task("stop", total=len(ids))
        futures = {pool.submit(_stop_one, client, sid): sid for sid in ids}
        for future in as_completed(futures):
            reason = future.result()
            if reason is not None:
                failures[futures[future]] = reason
            progress.advance(task)
    return failures
