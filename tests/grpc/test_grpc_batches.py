"""Batched replies are spliced from the shared ``event`` replies: they must decode to the
same events, in order, and keep the resume point honest."""

from __future__ import annotations

from herald.delivery.entry import Entry
from herald.grpc.subscribe import _control, _overtaking_reply, event_reply, grouped
from herald.grpc.v1 import herald_pb2 as pb


def _entry(n: int, text: str = "x") -> Entry:
    offset = f"{1000 + n}-0"
    data = ('{"offset":"' + offset + '","type":"stream:tweet:new","t":"' + text + '"}').encode()
    return Entry(offset, (1000 + n, 0), "stream:tweet:new", "s1", data, data.decode())


def test_batches_decode_to_the_same_events_in_order() -> None:
    entries = [_entry(n, "y" * (n * 40)) for n in range(7)]  # lengths past one varint byte
    beat = _control(pb.SubscribeReply(heartbeat=pb.Heartbeat(offset="1-0")))
    replies = [event_reply(e) for e in entries[:5]] + [beat] + [event_reply(entries[5])]
    out = grouped(replies, 3)
    kinds = [pb.SubscribeReply.FromString(r).WhichOneof("kind") for r, _, _ in out]
    assert kinds == ["events", "events", "heartbeat", "event"]
    decoded: list[pb.Event] = []
    for raw, _, _ in out:
        msg = pb.SubscribeReply.FromString(raw)
        if msg.WhichOneof("kind") == "events":
            decoded += list(msg.events.events)
        elif msg.WhichOneof("kind") == "event":
            decoded.append(msg.event)
    assert [(e.offset, e.json) for e in decoded] == [(e.offset, e.data) for e in entries[:6]]
    assert [offset for _, offset, _ in out] == [entries[2].offset, entries[4].offset, "", "1005-0"]
    assert [count for _, _, count in out] == [3, 2, 0, 1]
    assert grouped(replies, 1) == replies  # no batching asked: untouched


def test_an_overtaking_event_is_never_the_resume_point_of_its_batch() -> None:
    first, urgent = _entry(1), _entry(2)
    [(raw, resume, _)] = grouped([event_reply(first), _overtaking_reply(urgent)], 10)
    events = pb.SubscribeReply.FromString(raw).events.events
    assert [e.overtook for e in events] == [False, True]
    assert resume == first.offset
    [(_, nothing, _)] = grouped([_overtaking_reply(urgent), _overtaking_reply(first)], 10)
    assert nothing == ""
