"""Generating the Python code of ``proto/herald/v1/herald.proto`` (``make proto``).

protoc names modules after the ``.proto`` path (``herald.v1``); herald keeps them in
``herald.grpc.v1``, so the imports between the generated files are rewritten. The proto's
own path (``herald/v1/herald.proto``) stays the descriptor's file name, which is what
reflection and ``grpcurl`` show. A test regenerates into a temporary directory and compares
with the committed files. Needs the dev dependencies (grpcio-tools, mypy-protobuf).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO / "proto"
PROTO = "herald/v1/herald.proto"
PACKAGE_DIR = Path(__file__).resolve().parent / "v1"
FILES = ("herald_pb2.py", "herald_pb2.pyi", "herald_pb2_grpc.py", "herald_pb2_grpc.pyi")
_IMPORTS = (
    ("from herald.v1 import herald_pb2", "from herald.grpc.v1 import herald_pb2"),
    ("herald/v1/herald_pb2_grpc.py", "herald/grpc/v1/herald_pb2_grpc.py"),
)


def generate(out: Path) -> list[Path]:
    """Write the four generated files into ``out``; returns their paths."""
    from grpc_tools import protoc  # dev dependency

    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "protoc",
            f"-I{PROTO_ROOT}",
            f"-I{Path(protoc.__file__).parent / '_proto'}",
            f"--plugin=protoc-gen-mypy={bindir / 'protoc-gen-mypy'}",
            f"--plugin=protoc-gen-mypy_grpc={bindir / 'protoc-gen-mypy_grpc'}",
            f"--python_out={tmp}",
            f"--mypy_out={tmp}",
            f"--grpc_python_out={tmp}",
            f"--mypy_grpc_out={tmp}",
            PROTO,
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {PROTO}")
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in FILES:
            text = (Path(tmp) / "herald" / "v1" / name).read_text()
            for old, new in _IMPORTS:
                text = text.replace(old, new)
            target = out / name
            target.write_text(text)
            written.append(target)
    return written


def main() -> None:
    generate(PACKAGE_DIR)
    init = PACKAGE_DIR / "__init__.py"
    if not init.exists():
        init.write_text('"""Generated from proto/herald/v1/herald.proto by ``make proto``."""\n')
    print(f"generated {', '.join(FILES)} in {PACKAGE_DIR.relative_to(REPO)}")


if __name__ == "__main__":
    main()
