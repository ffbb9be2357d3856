"""The gRPC fan-out section of docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

from bench.tables import TIMES, Section, _fmt, _header, _table, _usable

LABELS = {
    "socketio": "Socket.IO",
    "grpc": "gRPC, one `event` per reply",
    "grpc_batch32": "gRPC, `max_batch: 32`",
}


def grpc_fanout(entry: dict[str, Any] | None, images: dict[str, str]) -> list[str]:
    lines = _header(
        "21. gRPC fan-out",
        "grpc_fanout",
        entry,
        "Deliveries per second from one `herald serve --no-worker` pinned to one core, with "
        "`HERALD_GRPC_PORT` set, to N subscribers: herald's Socket.IO clients, then N gRPC "
        "`Subscribe` calls, each on its own connection (a grpcio aio client process on the "
        "other core, replies counted as raw bytes), first with one `event` per reply, then "
        "with `max_batch: 32`. herald's pools take turns on the same server; the bursts and "
        "the producer are the fan-out scenario's (section 2). Each gRPC row is paired with "
        "a bare grpcio aio server on the same core streaming the same serialized replies "
        "from in-memory queues (no log, filters, auth or bounds: grpcio's own cost per "
        "message), holding its subscribers at the same time and taking turns round by "
        "round. Medians of the rounds (each listed).",
    )
    if not _usable(entry):
        return lines
    assert entry is not None
    rows = []
    for r in entry["results"]["rows"]:
        sio = r["socketio"]["median"]
        for kind, label in LABELS.items():
            cell = r.get(kind)
            if cell is None:
                continue
            grpc = kind != "socketio"
            rows.append(
                [
                    label,
                    _fmt(r["clients"]),
                    r["burst"],
                    _fmt(cell["median"]),
                    ", ".join(_fmt(x["per_second"]) for x in cell["runs"]),
                    _fmt(cell["median"] / sio, TIMES) if grpc and sio else "—",
                    _fmt(cell.get("peer_median")) if grpc else "—",
                    _fmt(cell.get("peer_ratio_median"), TIMES) if grpc else "—",
                    _fmt(cell["client_cpu"]),
                    cell["cut"],
                ]
            )
    head = [
        "transport",
        "subscribers",
        "burst",
        "herald deliveries/s",
        "each round",
        "vs Socket.IO",
        "bare grpcio /s",
        "vs bare grpcio",
        "client CPU s",
        "cut-offs",
    ]
    lines += _table(head, rows)
    lines += [
        "Each gRPC reply costs grpcio a write of its own (a batch of C-core operations and a "
        "completion, per message and per subscriber), where herald's Socket.IO writes the "
        "frames of a whole log read to each socket at once: that, more than herald's own "
        "work, keeps one event per reply far below Socket.IO; *vs bare grpcio* is herald's "
        "share of that ceiling. `max_batch` divides the per-message cost by the batch size.",
        "",
    ]
    load = entry["results"].get("load")
    if load:
        lines += [
            f"Load average on the 2-core machine when the run ended: "
            f"{', '.join(map(str, load))}; every row moves with it, the ratios less.",
            "",
        ]
    return lines


SECTIONS: list[tuple[str, Section]] = [("grpc_fanout", grpc_fanout)]
