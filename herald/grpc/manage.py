"""The unary RPCs: stream management, as ``/api/streams`` does it, with the same access rules.

Each RPC calls the same :class:`~herald.engine.manager.StreamManager` method as its REST
route and checks the same access level (:mod:`herald.api.access`): starting a stream needs
an administrator (an API key or a JWT with ``admin: true``); a JWT limited to some streams
may only stop, pause, resume and read those, and lists only those; a read-only token
(``read-only`` scope, or a read key) may only read. A stream travels as a
:class:`StreamReply`: the common fields typed, and the whole REST object as JSON.
"""

from __future__ import annotations

from typing import Any

import orjson

from herald.auth import Principal, check_reads_only
from herald.engine.manager import StreamManager
from herald.errors import Forbidden, ValidationError
from herald.grpc.v1 import herald_pb2 as pb


def stream_reply(stream: dict[str, Any]) -> pb.StreamReply:
    target = stream.get("target", stream.get("username"))
    return pb.StreamReply(
        id=str(stream.get("id", "")),
        type=str(stream.get("type", "")),
        target=str(target or ""),
        status=str(stream.get("status", "")),
        json=orjson.dumps(stream),
    )


def _stream_id(request: pb.StreamRef, principal: Principal) -> str:
    stream_id = request.stream_id
    if not stream_id:
        raise ValidationError("stream_id: required, a non-empty string")
    if not principal.may_access(stream_id):
        raise Forbidden(f"stream_id: this token may not access stream {stream_id!r}")
    return stream_id


def _acted_on(request: pb.StreamRef, principal: Principal) -> str:
    """The stream a stop, pause or resume acts on: never for a read-only token."""
    check_reads_only(principal, "POST")
    return _stream_id(request, principal)


class Management:
    """The unary RPCs of ``herald.v1.Herald``, over one stream manager."""

    def __init__(self, manager: StreamManager) -> None:
        self.manager = manager

    async def start(self, request: pb.StartStreamRequest, principal: Principal) -> pb.StreamReply:
        if not principal.admin:
            raise Forbidden("StartStream needs an API key or a token with the admin claim")
        options: Any = None
        if request.options:
            try:
                options = orjson.loads(request.options)
            except orjson.JSONDecodeError as exc:
                raise ValidationError(f"options: not JSON: {exc}") from exc
        stream = await self.manager.create(
            type=request.type,
            target=request.target or None,
            interval=request.interval or None,
            auth_token=request.auth_token or None,
            options=options,
        )
        return stream_reply(stream)

    async def stop(self, request: pb.StreamRef, principal: Principal) -> pb.StopStreamReply:
        result = await self.manager.stop(_acted_on(request, principal))
        return pb.StopStreamReply(
            success=bool(result.get("success")), stream_id=str(result.get("streamId", ""))
        )

    async def pause(self, request: pb.StreamRef, principal: Principal) -> pb.StreamReply:
        return stream_reply(await self.manager.pause(_acted_on(request, principal)))

    async def resume(self, request: pb.StreamRef, principal: Principal) -> pb.StreamReply:
        return stream_reply(await self.manager.resume(_acted_on(request, principal)))

    async def get(self, request: pb.StreamRef, principal: Principal) -> pb.StreamReply:
        return stream_reply(await self.manager.status(_stream_id(request, principal)))

    async def list(self, request: pb.ListStreamsRequest, principal: Principal) -> Any:
        streams = [
            s for s in await self.manager.list_streams() if principal.may_access(str(s.get("id")))
        ]
        return pb.ListStreamsReply(streams=[stream_reply(s) for s in streams], count=len(streams))
