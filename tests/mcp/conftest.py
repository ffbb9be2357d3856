"""A real herald on a free port (in-memory source, the machine's Redis) for the MCP tests.

Streams may poll every second here, so a tweet posted to the source shows up within a
couple of seconds without any explicit poll.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from mcp_types import CallToolResult

from herald.config import Settings
from herald.service import Herald
from herald.sources.memory import MemorySource
from tests.servers import herald_settings, serve_herald

API_KEY = "mcp-test-key-3c9d1e7f"


@dataclass
class McpServer:
    herald: Herald
    source: MemorySource
    url: str


async def serve(settings: Settings) -> AsyncIterator[McpServer]:
    """``serve_herald`` ends the app's MCP sessions when the block ends."""
    source = MemorySource()
    async with Herald(settings, sources=[source]) as herald, serve_herald(herald) as url:
        yield McpServer(herald, source, url)


@pytest.fixture
async def server(external_redis: object, key_prefix: str) -> AsyncIterator[McpServer]:
    async for running in serve(herald_settings(key_prefix)):
        yield running


@pytest.fixture
async def secured(external_redis: object, key_prefix: str) -> AsyncIterator[McpServer]:
    async for running in serve(herald_settings(key_prefix, api_keys=[API_KEY])):
        yield running


def data(result: CallToolResult) -> Any:
    """A tool's answer: its structured content, else the JSON in its text."""
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)  # type: ignore[union-attr]


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    return " ".join(getattr(block, "text", "") for block in result.content)
