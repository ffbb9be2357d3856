"""The snapshot encoding: orjson with a format name, a version and the pipeline's shape.

The shape (the operator ids in order) is checked on restore: state saved by a pipeline
with other operators would be fed to the wrong ones, so it is refused, never reset.
"""

from __future__ import annotations

from typing import Any

import orjson

from herald.pipeline.core import PipelineStateError

FORMAT = "herald.pipeline.state"
VERSION = 1


def encode(name: str, shape: list[str], body: dict[str, Any]) -> bytes:
    document = {"format": FORMAT, "version": VERSION, "pipeline": name, "shape": shape}
    document["state"] = body
    try:
        return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)
    except TypeError as exc:
        raise PipelineStateError(
            f"pipeline {name!r}: state is not JSON-encodable ({exc}); keep operator state "
            "to JSON values (dict, list, str, int, float, bool, None)"
        ) from exc


def decode(data: bytes, name: str, shape: list[str]) -> dict[str, Any]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise PipelineStateError(f"pipeline {name!r}: state is not decodable: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PipelineStateError(f"pipeline {name!r}: state is not a {FORMAT} snapshot")
    version = document.get("version")
    if version != VERSION:
        raise PipelineStateError(
            f"pipeline {name!r}: state has version {version!r}; this herald reads {VERSION}"
        )
    if document.get("pipeline") != name:
        raise PipelineStateError(
            f"pipeline {name!r}: state belongs to pipeline {document.get('pipeline')!r}"
        )
    if document.get("shape") != shape:
        raise PipelineStateError(
            f"pipeline {name!r}: state was saved by other operators "
            f"({document.get('shape')!r}, now {shape!r})"
        )
    body = document.get("state")
    if not isinstance(body, dict):
        raise PipelineStateError(f"pipeline {name!r}: state has no body")
    return body
