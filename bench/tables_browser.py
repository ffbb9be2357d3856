"""The "Browser path: poll cost and pool memory" section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import TIMES, Section, _fmt, _header, _table, _usable


def browserpool(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "19. Browser path: poll cost and pool memory (X)",
        "browserpool",
        entry,
        "CPU of one `tweet` poll on each of X's two paths against the local stand-in "
        "(fakex, its own process), each poll finding the same 20 tweets (nothing new), "
        "median of many polls. GraphQL: this process's `time.process_time()`, as in the poll "
        "cost section. Browser (fakex refuses herald's signed GraphQL, so the pool loads the "
        "profile page in a headless Chromium and reads the GraphQL answers the page's own "
        "script fetched): this process's CPU plus that of the Playwright driver and every "
        "Chromium process under it during the poll, from /proc. The stand-in's page is a few "
        "kilobytes of script; x.com's app is megabytes, so a real browser poll costs more. "
        "Memory: one browser with N pages open on the profile page; PSS splits shared pages "
        "between the processes sharing them, RSS counts them in each.",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    res = entry["results"]
    for what, reason in (res.get("skipped") or {}).items():
        lines += [f"**Skipped {what}:** {reason}", ""]
    rows = [
        [r["path"], str(r["polls"]), _fmt(r["cpu_ms_median"]), _fmt(r["wall_ms_median"])]
        for r in res.get("rows", [])
    ]
    if res.get("ratio_cpu") is not None:
        rows.append(
            ["browser / graphql", "", _fmt(res["ratio_cpu"], TIMES), _fmt(res["ratio_wall"], TIMES)]
        )
    lines += _table(["path", "polls", "CPU ms per poll (median)", "wall ms (median)"], rows)
    memory = res.get("memory") or []
    if memory:
        lines += _table(
            ["pages open", "PSS MB", "RSS MB (sum)", "processes"],
            [
                [str(m["pages"]), _fmt(m["pss_mb"]), _fmt(m["rss_mb"]), str(m["processes"])]
                for m in memory
            ],
        )
    load = res.get("load")
    if load:
        lines += [
            f"Load average (1 min): {load['before']:.1f} before, {load['after']:.1f} after.",
            "",
        ]
    return lines


SECTIONS: list[tuple[str, Section]] = [("browserpool", browserpool)]
