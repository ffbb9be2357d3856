"""A process that submits one command: for the kill -9 test (it hangs in its send until
killed) and the cross-process idempotency test (it prints the answer as JSON).

Reads its settings (JSON), the command (JSON), the Redis URL and an optional gate (a key
prefix: the children of one test say they are ready there, then wait for its go) from argv.
"""

from __future__ import annotations

import asyncio
import json
import sys

import redis.asyncio as aioredis

from herald.commands.host import CommandsHost
from herald.config import Settings
from herald.sources.x.accounts import AccountStore
from herald.store.eventlog import EventLog
from herald.store.keys import Keys
from herald.store.secrets import Cipher


async def main(settings_json: str, command_json: str, redis_url: str, gate: str = "") -> None:
    settings = Settings(**json.loads(settings_json))
    redis = aioredis.from_url(redis_url)
    keys = Keys(settings.redis_prefix)
    accounts = AccountStore(redis, keys, Cipher.from_settings(settings))
    host = CommandsHost.build(
        settings, redis, keys, EventLog(redis, keys), accounts, reconcile=False
    )
    if gate:  # start together: say ready, then wait for the go
        await redis.incr(f"{gate}:ready")
        await redis.blpop([f"{gate}:go"], timeout=30)
    answer = await host.service.submit(json.loads(command_json))
    print(json.dumps(answer), flush=True)
    await host.stop()
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
