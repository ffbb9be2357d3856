"""Finding and watching the system's Chromium: herald never downloads a browser.

Playwright drives the Chromium the machine has (Debian's ``chromium``), found through
``HERALD_CHROMIUM`` or the PATH. The browser's own process id is read from ``/proc`` (the
Playwright driver is a child of this process, the browser a child of the driver), so the
pool can report it and the benchmarks can read its memory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from herald.config import Settings

NAMES = ("chromium", "chromium-browser", "google-chrome")
# Launch flags: headless, nothing that phones home, nothing that needs a GPU or a sandbox
# helper (containers rarely allow one), a fresh profile per launch (Playwright's default).
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def find_chromium(settings: Settings) -> str | None:
    """``HERALD_CHROMIUM`` if it names an executable, else the first of NAMES on the PATH."""
    if settings.chromium:
        path = Path(settings.chromium)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        return shutil.which(settings.chromium)
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_enabled(settings: Settings) -> tuple[bool, str | None]:
    """Whether the browser path is on, and the Chromium it would use.

    ``on``: on (a missing Chromium is then an error at the first use, which says so);
    ``off``: off; ``auto``: on when Chromium is found.
    """
    mode = settings.browser.lower()
    chromium = None if mode == "off" else find_chromium(settings)
    if mode == "on":
        return True, chromium
    return (mode == "auto" and chromium is not None), chromium


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None:
                kids.setdefault(int(fields[1]), []).append(int(entry.name))
    return kids


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (its children, theirs...)."""
    kids = _children()
    found: list[int] = []
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for kid in kids.get(pid, []):
            found.append(kid)
            frontier.append(kid)
    return found


def browser_pids() -> set[int]:
    """Chromium main processes below this one (its helpers carry ``--type=``)."""
    pids: set[int] = set()
    for pid in descendants(os.getpid()):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            if "chrom" not in comm:
                continue
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"--type=" not in cmdline:  # helpers rewrite their argv into one string
            pids.add(pid)
    return pids


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and every process below it (0 when it is gone)."""
    total = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for each in (pid, *descendants(pid)):
        try:
            total += int(Path(f"/proc/{each}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total
