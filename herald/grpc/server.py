"""The gRPC server: ``herald.v1.Herald`` on ``HERALD_GRPC_PORT``, beside the HTTP server.

It runs on the same event loop as the HTTP server and serves the same
:class:`~herald.service.Herald`: subscriptions join the node's one log tail and hub like
every other transport's clients. The port is bound by :meth:`GrpcServer.bind` before
herald starts (a taken port fails at once, as the HTTP port does); calls that arrive
before delivery is up get ``UNAVAILABLE``. Server reflection is on, so ``grpcurl`` needs
no ``.proto``.

:meth:`close_clients` ends every subscription with ``success {reason:
"server_shutdown", offset}`` (the resume point), then :meth:`stop` stops the server.

Replies of ``Subscribe`` are serialized once per event and shared (see
:func:`herald.grpc.subscribe.event_reply`), so the method handlers are registered by hand
with a serializer that passes bytes through.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from grpc import aio
from grpc_reflection.v1alpha import reflection

from herald.auth import Principal
from herald.config import Settings
from herald.errors import HeraldError
from herald.grpc import calls
from herald.grpc import subscribe as grpc_subscribe
from herald.grpc.manage import Management
from herald.grpc.v1 import herald_pb2 as pb
from herald.service import Herald

log = logging.getLogger(__name__)

SERVICE = "herald.v1.Herald"
#: How long a stop waits for calls to finish after they were told to (then cancels them).
STOP_GRACE = 2.0
#: Largest request accepted (the HTTP body limit's order of magnitude).
MAX_REQUEST = 256 * 1024

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)
Context = aio.ServicerContext[Any, Any]


class Unavailable(HeraldError):
    code = "unavailable"
    status = 503


def _serialize(reply: Any) -> bytes:
    """Pre-serialized replies pass through; messages are serialized."""
    return reply if isinstance(reply, bytes) else bytes(reply.SerializeToString())


def keepalive_options(settings: Settings) -> list[tuple[str, int]]:
    """The server pings every connection (``HERALD_GRPC_KEEPALIVE``) and closes one whose
    ping goes unanswered: a subscriber cut off without a FIN would otherwise hold its call,
    its connection slot and a pending reply until the server stops. Pings go on while no
    data flows (a quiet subscription), and on connections without calls. grpc core waits
    for the ack by ``grpc.http2.ping_timeout_ms`` (a minute by default), so it gets the
    same timeout as ``grpc.keepalive_timeout_ms``."""
    if settings.grpc_keepalive <= 0:
        return []
    every_ms = max(int(settings.grpc_keepalive * 1000), 1)
    timeout_ms = max(int(settings.grpc_keepalive_timeout * 1000), 1)
    return [
        ("grpc.keepalive_time_ms", every_ms),
        ("grpc.keepalive_timeout_ms", timeout_ms),
        ("grpc.http2.ping_timeout_ms", timeout_ms),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
    ]


class GrpcServer:
    """``herald.v1.Herald`` over ``herald``'s delivery and stream manager."""

    def __init__(self, herald: Herald, host: str, port: int) -> None:
        self.herald = herald
        self.host = host
        self.requested_port = port
        self.port = 0
        self.calls: set[grpc_subscribe.Subscriber] = set()
        self._server: aio.Server | None = None
        #: Set once clients were told the server is going away: new subscriptions are refused.
        self.closing = False

    def bind(self) -> int:
        """Create the server and bind its port (``0``: any free one); returns the port."""
        server = aio.server(
            options=[
                ("grpc.max_receive_message_length", MAX_REQUEST),
                ("grpc.so_reuseport", 0),
                *keepalive_options(self.herald.settings),
            ]
        )
        server.add_generic_rpc_handlers((self._handlers(),))
        reflection.enable_server_reflection((SERVICE, reflection.SERVICE_NAME), server)
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal
        address = f"{host}:{self.requested_port}"
        try:
            self.port = server.add_insecure_port(address)
        except RuntimeError as exc:
            raise HeraldError(f"cannot listen for gRPC on {address}: {exc}") from None
        if self.port == 0:
            raise HeraldError(f"cannot listen for gRPC on {address}")
        self._server = server
        return self.port

    async def start(self) -> None:
        if self._server is None:
            self.bind()
        assert self._server is not None
        await self._server.start()
        if self.herald.delivery is not None:
            self.herald.delivery.counters[grpc_subscribe.TRANSPORT] = lambda: len(self.calls)
        log.info("gRPC serving %s on %s:%d", SERVICE, self.host, self.port)

    async def close_clients(self, reason: str = grpc_subscribe.SHUTDOWN) -> None:
        """End every subscription cleanly (``success``) and wait briefly for them to go;
        refuse new ones (``UNAVAILABLE``) from now on."""
        self.closing = True
        for sub in list(self.calls):
            sub.finish(reason)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_GRACE
        while self.calls and loop.time() < deadline:
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        await self.close_clients()
        await server.stop(STOP_GRACE)

    # --- handlers -----------------------------------------------------------------
    def _principal(self, context: Context) -> Principal:
        delivery = self.herald.delivery
        if delivery is None:
            raise Unavailable("herald is starting; try again shortly")
        return calls.authenticate(delivery.auth, context)

    def _check_open(self) -> None:
        if self.closing:
            raise Unavailable("server shutting down; resume from your offset elsewhere")

    async def _subscribe(
        self, request: pb.SubscribeRequest, context: Context
    ) -> AsyncIterator[bytes]:
        try:
            principal = self._principal(context)
            self._check_open()
        except HeraldError as exc:
            yield grpc_subscribe.error_reply(exc.code, calls.detail_of(exc))
            await calls.refuse(context, exc)
        delivery = self.herald.delivery
        assert delivery is not None
        address = calls.peer_address(context)
        async for reply in grpc_subscribe.serve(
            delivery.ctx, request, context, principal, address, self.calls
        ):
            yield reply

    def _unary(
        self, method: Callable[[Management, Req, Principal], Awaitable[Resp]]
    ) -> Callable[[Req, Context], Awaitable[Resp]]:
        async def handler(request: Req, context: Context) -> Resp:
            try:
                principal = self._principal(context)
                return await method(Management(self.herald.manager), request, principal)
            except HeraldError as exc:
                await calls.refuse(context, exc)

        return handler

    def _handlers(self) -> grpc.GenericRpcHandler[Any, Any]:
        def unary(
            method: Callable[[Management, Any, Principal], Awaitable[Any]], request: type[Message]
        ) -> grpc.RpcMethodHandler[Any, Any]:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method),
                request_deserializer=request.FromString,
                response_serializer=_serialize,
            )

        methods = {
            "Subscribe": grpc.unary_stream_rpc_method_handler(
                self._subscribe,
                request_deserializer=pb.SubscribeRequest.FromString,
                response_serializer=_serialize,
            ),
            "StartStream": unary(Management.start, pb.StartStreamRequest),
            "StopStream": unary(Management.stop, pb.StreamRef),
            "PauseStream": unary(Management.pause, pb.StreamRef),
            "ResumeStream": unary(Management.resume, pb.StreamRef),
            "GetStream": unary(Management.get, pb.StreamRef),
            "ListStreams": unary(Management.list, pb.ListStreamsRequest),
        }
        return grpc.method_handlers_generic_handler(SERVICE, methods)
