"""Server reflection lists the service, and the committed stubs match the .proto."""

from __future__ import annotations

import filecmp
from pathlib import Path

from grpc import aio
from grpc_helpers import GrpcHerald
from grpc_reflection.v1alpha import reflection_pb2 as rpb
from grpc_reflection.v1alpha import reflection_pb2_grpc as rrpc

from herald.grpc import codegen


async def test_reflection_lists_and_describes_the_service(served: GrpcHerald) -> None:
    async with aio.insecure_channel(served.target) as channel:
        reflect = rrpc.ServerReflectionStub(channel)
        asks = [
            rpb.ServerReflectionRequest(list_services=""),
            rpb.ServerReflectionRequest(file_containing_symbol="herald.v1.Herald"),
        ]
        replies = [r async for r in reflect.ServerReflectionInfo(iter(asks))]
    names = {s.name for s in replies[0].list_services_response.service}
    assert {"herald.v1.Herald", "grpc.reflection.v1alpha.ServerReflection"} <= names
    [proto] = replies[1].file_descriptor_response.file_descriptor_proto
    assert b"herald/v1/herald.proto" in proto and b"Subscribe" in proto


def test_committed_stubs_match_the_proto(tmp_path: Path) -> None:
    codegen.generate(tmp_path)
    for name in codegen.FILES:
        assert filecmp.cmp(tmp_path / name, codegen.PACKAGE_DIR / name, shallow=False), (
            f"herald/grpc/v1/{name} is stale: run `make proto`"
        )
