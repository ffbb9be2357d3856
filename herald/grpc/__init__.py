"""gRPC delivery and stream management: ``herald.v1.Herald`` (``proto/herald/v1/herald.proto``).

Off unless ``HERALD_GRPC_PORT`` is set; ``herald serve`` then runs :class:`GrpcServer`
beside the HTTP server (docs/grpc.md).
"""

from __future__ import annotations

from herald.grpc.server import GrpcServer

__all__ = ["GrpcServer"]
